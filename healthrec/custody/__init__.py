"""Custody of archives moving between villages and townships: transfers asked for by the
receiving side and confirmed by the releasing one, and mergers run by the county's
administrator. The archive code never changes; see archives/custody.py for the fields."""
