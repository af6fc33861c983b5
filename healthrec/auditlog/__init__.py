"""The audit trail seen through scope: entries, counts, verification, disclosure reports."""
