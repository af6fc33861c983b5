"""The audit trail: hash chains (`chain`), recording entries and refusals (`log`), and the
trail seen through scope (`service`): entries, counts, verification, disclosure reports."""
