"""The signed-in user as the services see it."""

from flask_login import UserMixin


class User(UserMixin):
    def __init__(self, doc, ip=None):
        self.username = doc["_id"]
        self.role = doc["role"]
        self.region = doc["region"]
        self.name = doc.get("name") or doc["_id"]
        self.disabled = doc.get("disabled", False)
        self.session_version = doc.get("session_version", 0)
        # The client address travels with the user so every audit entry can name it.
        self.ip = ip

    def get_id(self):
        # A password reset or disable bumps the version and so ends older sessions.
        return f"{self.username}:{self.session_version}"

    @property
    def is_active(self):
        return not self.disabled

    def covers(self, code):
        """True when the region `code` lies inside this user's scope."""
        return code.startswith(self.region)

    def public(self):
        return {"username": self.username, "role": self.role, "region": self.region}
