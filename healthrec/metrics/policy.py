"""Who may see indicators, draw verification samples, check them and see their results.

Indicators are counts without personal data: everyone who serves or supervises a region
sees those of their own scope. Samples are drawn by those who assess (supervisors, and a
township health centre for its own villages), never by the village clinics assessed.
"""

from healthrec.archives.custody import in_scope
from healthrec.auth import roles
from healthrec.errors import Forbidden

ASSESSORS = (roles.SUPERVISOR, roles.TOWNSHIP_STAFF)


def check_indicators(user, region, custody):
    """`custody`: the village, township and county of `region` now; after a merger a
    village's township is the one it was handed to, whatever its code says."""
    if user.role == roles.ADMIN:
        raise Forbidden("Administrators manage users, regions and keys; indicators are for supervisors and "
                        "health staff.")
    if not (in_scope(user.region, custody) if len(region) > 6 else user.covers(region)):
        raise Forbidden(f"Region {region} is outside your region {user.region}; ask for {user.region} or a "
                        "region within it.")


def check_draw(user, region):
    if user.role not in ASSESSORS:
        raise Forbidden("Verification samples are drawn by supervisors and township health centres, not by "
                        "the clinics they assess.")
    if not user.covers(region):
        raise Forbidden(f"Region {region} is outside your region {user.region}; draw samples within it.")


def may_check(role, checker_region, region):
    """Whether a user of `role` and `checker_region` may be named a checker of a sample of
    `region`: an assessor of the same county, or one whose scope covers the region."""
    return role in ASSESSORS and (region.startswith(checker_region) or checker_region[:6] == region[:6])


def check_view(user, sample):
    if user.username in sample["checkers"] or user.username == sample["created_by"]:
        return
    if user.role not in ASSESSORS or not user.covers(sample["region"]):
        raise Forbidden("A sample is seen by its checkers, whoever drew it, and assessors whose region covers "
                        f"region {sample['region']}.")


def check_result(user, sample):
    if user.username not in sample["checkers"]:
        raise Forbidden(f"Only the sample's checkers ({', '.join(sample['checkers'])}) record its results.")


def check_close(user, sample):
    if user.username != sample["created_by"] and (user.role not in ASSESSORS or not user.covers(sample["region"])):
        raise Forbidden("A sample is closed by whoever drew it or an assessor whose region covers region "
                        f"{sample['region']}.")
