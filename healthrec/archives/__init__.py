"""Resident archives (居民健康档案): one lifelong archive per resident."""
