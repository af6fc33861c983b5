"""Roles and the region scope each one holds (a region-code prefix)."""

VILLAGE_DOCTOR = "village_doctor"
TOWNSHIP_STAFF = "township_staff"
SUPERVISOR = "supervisor"
ADMIN = "admin"

# Scope length each role's region code must have; supervisors and admins may also hold
# a shorter prefix (a prefecture or province) above the county.
SCOPE_DIGITS = {
    VILLAGE_DOCTOR: (12,),
    TOWNSHIP_STAFF: (9,),
    SUPERVISOR: (2, 4, 6),
    ADMIN: (2, 4, 6),
}
ROLES = tuple(SCOPE_DIGITS)
