from flask_smorest import Blueprint

from healthrec.regions import service
from schemas.regions import Region

blp = Blueprint("regions", __name__, url_prefix="/api/v1/regions",
                description="Counties, townships, villages")


@blp.route("/<code>")
@blp.response(200, Region)
@blp.alt_response(404, description="No such region")
def get_region(code):
    """A region with its name, level, parent and population per year."""
    return service.get_region(code)
