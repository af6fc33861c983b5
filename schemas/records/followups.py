"""The follow-up forms of the key populations (重点人群随访), one per population."""

from schemas.records.children import ChildFollowup
from schemas.records.chronic import DiabetesFollowup, HypertensionFollowup
from schemas.records.elderly import ElderlyFollowup
from schemas.records.maternal import MaternalFollowup
from schemas.records.mental import SevereMentalDisorderFollowup
from schemas.records.tuberculosis import TuberculosisFollowup

# Add a population by adding its form here.
POPULATIONS = {
    "hypertension": HypertensionFollowup,
    "diabetes": DiabetesFollowup,
    "child": ChildFollowup,
    "maternal": MaternalFollowup,
    "elderly": ElderlyFollowup,
    "severe_mental_disorder": SevereMentalDisorderFollowup,
    "tuberculosis": TuberculosisFollowup,
}
