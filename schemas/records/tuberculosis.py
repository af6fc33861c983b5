"""肺结核患者第一次入户随访记录表 and 肺结核患者随访服务记录表: the pulmonary tuberculosis
home visit after notification and the follow-ups during treatment, chosen by `visit`.

Every clinical field is sealed: only the kind, date, population, method and the next
day stay plain, which the work lists and indicators need (docs/security.md).
"""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, validates_schema

from schemas.form import choice, codes, count, flag, group, measure, other_needs_text, requires, short
from schemas.records.chronic import REACTION
from schemas.records.fields import (
    FOLLOWUP_PLAIN,
    GOOD_FAIR_POOR,
    Followup,
    day,
    no_other_with_none,
    presence,
    sealed_form,
    text,
)

VISITS = {"first_home": _l("First home visit"), "followup": _l("Follow-up during treatment")}
# Asked at the first home visit only.
FIRST_VISIT = ("patient_type", "sputum", "drug_resistance", "home", "education")


class Home(Schema):
    own_room = flag(_l("Has a room of their own"))
    ventilation = choice(GOOD_FAIR_POOR, _l("Ventilation"))


class Stopped(Schema):
    date = day(_l("Treatment stopped on"), required=True)
    reason = choice({"completed": _l("Course completed"), "died": _l("Died"), "lost": _l("Lost"),
                     "mdr_treatment": _l("Moved to multidrug-resistant treatment")}, _l("Why treatment stopped"),
                    required=True)


class WholeCourse(Schema):
    """全程管理情况, filled in when treatment ends."""

    visits_due = count(0, 500, "visits", _l("Visits due"))
    visits_made = count(0, 500, "visits", _l("Visits made"))
    doses_due = count(0, 1000, "doses", _l("Doses due"))
    doses_taken = count(0, 1000, "doses", _l("Doses taken"))


@sealed_form(FOLLOWUP_PLAIN)
class TuberculosisFollowup(Followup):
    visit = choice(VISITS, _l("Visit"), required=True)
    patient_type = choice({"new": _l("New patient"), "retreatment": _l("Retreatment")}, _l("Patient type"))
    sputum = choice({"positive": _l("Positive"), "negative": _l("Negative"), "not_tested": _l("Sputum not tested")},
                    _l("Sputum smear"))
    drug_resistance = choice({"resistant": _l("Drug-resistant"), "not_resistant": _l("Not drug-resistant"),
                              "not_tested": _l("Not tested")}, _l("Drug resistance"))
    home = group(Home, _l("Home environment"))
    education = codes({
        "drug_collection": _l("Where and when to collect the drugs"), "record_card": _l("Filling in the dosing card"),
        "taking_and_storing": _l("Taking and storing the drugs"), "course": _l("Length of the treatment"),
        "irregular_harm": _l("Harm of irregular treatment"), "adverse_reactions": _l("Adverse reactions and what "
                                                                                     "to do"),
        "sputum_recheck": _l("Sputum rechecks during treatment"), "travelling": _l("Keeping on when away"),
        "habits": _l("Habits and precautions"), "contacts": _l("Examining close contacts")},
        _l("Health education given"))
    treatment_month = count(1, 36, "month of treatment", _l("Month of treatment"))
    supervisor = choice({"doctor": _l("Medical staff"), "family": _l("Family member"), "self": _l("Self-administered"),
                         "other": _l("Other")}, _l("Treatment supervised by"))
    symptoms = codes({"none": _l("No symptoms"), "cough_sputum": _l("Cough with phlegm"),
                      "fever_sweats": _l("Low fever, night sweats"), "haemoptysis": _l("Coughing blood"),
                      "chest_pain_weight_loss": _l("Chest pain, weight loss"),
                      "nausea_appetite": _l("Nausea, poor appetite"), "headache_insomnia": _l("Headache, insomnia"),
                      "blurred_vision": _l("Blurred vision"), "itching_rash": _l("Itching, rash"),
                      "tinnitus_hearing": _l("Ringing in the ears, hearing loss"), "other": _l("Other")},
                     _l("Symptoms and signs"))
    symptoms_other = short(_l("Other symptoms"))
    daily_cigarettes = count(0, 100, "cigarettes/day", _l("Cigarettes a day"))
    target_cigarettes = count(0, 100, "cigarettes/day", _l("Target cigarettes a day"))
    daily_liang = measure(0, 50, "liang/day (两, 50 g)", _l("Amount of alcohol a day"))
    target_liang = measure(0, 50, "liang/day (两, 50 g)", _l("Target amount of alcohol a day"))
    regimen = short(_l("Chemotherapy regimen"))
    usage = choice({"daily": _l("Daily"), "intermittent": _l("Intermittent")}, _l("Dosing"))
    formulation = choice({"fixed_dose": _l("Fixed-dose combination"), "loose": _l("Loose drugs"),
                          "blister": _l("Blister-packed combination"), "injection": _l("Injection")},
                         _l("Formulation"))
    missed_doses = count(0, 100, "doses", _l("Doses missed"))
    adverse_reaction = choice(REACTION, _l("Adverse drug reaction"))
    adverse_reactions = text(_l("Adverse reactions"))
    complication = presence(_l("Complications or comorbidities"))
    handling = text(_l("Handling"))
    stopped = group(Stopped, _l("Treatment stopped"))
    whole_course = group(WholeCourse, _l("Whole-course management"))

    @validates_schema
    def fits_the_visit(self, data, **kwargs):
        if data.get("visit") != "first_home":
            wrong = [name for name in FIRST_VISIT if name in data]
            if wrong:
                raise ValidationError({name: ["Asked at the first home visit only."] for name in wrong})
        requires(data, "treatment_month", data.get("visit") == "followup", "Which month of treatment is it?")
        no_other_with_none(data.get("symptoms"), "symptoms")
        other_needs_text(data, "symptoms", "symptoms_other")
        requires(data, "adverse_reactions", data.get("adverse_reaction") == "present", "Describe the adverse reaction.")
