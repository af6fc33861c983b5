"""What an archive must hold and how its parts must agree: pure functions, no database.

The service runs these on the plaintext of the whole archive (the stored one merged with a
change) before anything is sealed or written.
"""

import unicodedata

from healthrec.ids import IdCardError, disagreements, parse_id_card

ADULT_AGE = 18
ELDERLY_AGE = 65

# Key populations (重点人群). The derived ones follow from the birth date and are never
# stored, so they cannot go stale as a resident ages; the doctor sets the others.
DERIVED = ("elderly", "child")
SET_BY_DOCTOR = ("maternal", "hypertension", "diabetes", "severe_mental_disorder", "tuberculosis")
POPULATIONS = DERIVED + SET_BY_DOCTOR
# The chronic diseases whose patients are followed up and whose management is measured.
CHRONIC = ("hypertension", "diabetes")

# Fields that identify the resident or describe their health or circumstances: sealed at
# rest, each under its own key path. In a village of a few hundred people, ethnic group,
# occupation or marital status with a birth date points to one person, and the doctor's
# key-population flags name conditions (a severe mental disorder, tuberculosis); lists
# and indicators match flags by keyed tokens instead. What routing, lists and indicators
# need stays plain.
SEALED = ("name", "id_card", "phone", "address", "registered_address", "work_unit", "contact", "guardian",
          "ethnicity", "blood_type", "education", "occupation", "marital_status", "payment_methods",
          "payment_other", "drug_allergies", "allergies", "exposures", "past_history", "family_history",
          "hereditary_diseases", "disabilities", "disabilities_other", "living_conditions", "key_populations")
PLAIN = ("sex", "birth_date", "residence_type", "responsible_doctor", "archiving_institution")
DATES = ("birth_date",)
EDITABLE = SEALED + PLAIN

# The personal basic information form (个人基本信息表) and the archive's cover, which a
# qualified archive may not lack. An empty list or object means "asked, none"; only an
# absent field counts as missing.
REQUIRED = ("name", "sex", "birth_date", "id_card", "phone", "address", "registered_address", "work_unit",
            "contact", "residence_type", "ethnicity", "blood_type", "education", "occupation",
            "marital_status", "payment_methods", "drug_allergies", "exposures", "past_history",
            "family_history", "hereditary_diseases", "disabilities", "living_conditions",
            "responsible_doctor", "archiving_institution")
# What the form does not ask of a child of 0-6 years (the national specification's age).
FORM_CHILD_AGE = 6
NOT_FOR_CHILDREN = ("work_unit", "education", "occupation", "marital_status")
# The form asks about living conditions in rural areas only.
RURAL_ONLY = ("living_conditions",)

# Closing for these reasons hands the ID card on: the person registers where they moved
# to, or keeps the archive this one duplicated.
RELEASING_REASONS = ("moved_away", "duplicate")


def age_on(birth_date, day):
    """Age in full years on `day`."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def derived_populations(birth_date, today, child_max_age):
    """Elderly from 65; children 0 to `child_max_age` years inclusive, as the national
    spec's "0-6岁儿童" counts six-year-olds (HEALTHREC_CHILD_MAX_AGE, 3 under the plan)."""
    age = age_on(birth_date, today)
    flags = []
    if age >= ELDERLY_AGE:
        flags.append("elderly")
    if age <= child_max_age:
        flags.append("child")
    return flags


def is_minor(birth_date, today):
    return age_on(birth_date, today) < ADULT_AGE


def completeness(archive, today, rural=True):
    """{complete, missing[]} against the required basic content; `rural`: the archive's
    village is rural (the kind its region holds). Entries of the histories written before
    the coded lists are named (past_history.diseases.0.code) until they are coded."""
    required = list(REQUIRED)
    born = archive.get("birth_date")
    if born and age_on(born, today) <= FORM_CHILD_AGE:
        required = [name for name in required if name not in NOT_FOR_CHILDREN]
    if not rural:
        required = [name for name in required if name not in RURAL_ONLY]
    missing = [name for name in required if archive.get(name) is None]
    if archive.get("allergies") is not None and "drug_allergies" in missing:
        missing.remove("drug_allergies")  # answered on the older form, in words ([] for none)
    guardian = archive.get("guardian") or {}
    if guardian.get("phone"):
        # A child, or anyone in a guardian's care, is reached through the guardian.
        missing = [name for name in missing if name not in ("phone", "contact")]
    if born and is_minor(born, today) and not guardian:
        missing.append("guardian")
    for n, disease in enumerate((archive.get("past_history") or {}).get("diseases") or []):
        if not disease.get("code"):
            missing.append(f"past_history.diseases.{n}.code")
    for n, relative in enumerate(archive.get("family_history") or []):
        if not relative.get("conditions"):
            missing.append(f"family_history.{n}.conditions")
    return {"complete": not missing, "missing": missing}


def name_key(name):
    """The form of a name the search index is built from: full-width and half-width
    forms folded, spaces dropped, the middle dots of minority names (买买提·艾力) unified."""
    folded = unicodedata.normalize("NFKC", name)
    for dot in "•‧・∙⋅":
        folded = folded.replace(dot, "·")
    return "".join(folded.split())


def check(archive, today, child_max_age):
    """(errors by field, warnings, parsed ID card or None) for a whole archive.

    Normalises `archive` in place: ID card numbers in their canonical form, and only the
    doctor's key-population flags kept.
    """
    errors: dict[str, list[str]] = {}
    warnings: list[dict] = []
    card = None

    def add(field, message):
        errors.setdefault(field, []).append(message)

    born = archive["birth_date"]
    if born > today:
        add("birth_date", "The birth date lies in the future.")
    elif born.year < 1880:
        add("birth_date", "The birth date is before 1880; check the year.")

    if archive.get("id_card"):
        try:
            card = parse_id_card(archive["id_card"], today)
        except IdCardError as error:
            add("id_card", str(error))
        else:
            archive["id_card"] = card.number
            warnings.extend({"field": "id_card", "message": text} for text in card.warnings)
            for field, messages in disagreements(card, born, archive["sex"]).items():
                errors.setdefault(field, []).extend(messages)
    elif not archive.get("guardian"):
        add("guardian", "Without an ID card number (a newborn, say) the archive needs a "
                        "guardian: give guardian.name and guardian.relation, or the id_card.")

    guardian = archive.get("guardian")
    if guardian and guardian.get("id_card"):
        try:
            guardian["id_card"] = parse_id_card(guardian["id_card"], today).number
        except IdCardError as error:
            add("guardian.id_card", str(error))

    for codes, code, text, what in (("drug_allergies", "other", "allergies", "the other drugs"),
                                    ("payment_methods", "other", "payment_other", "the other payment"),
                                    ("disabilities", "other", "disabilities_other", "the other disability")):
        if code in (archive.get(codes) or []) and not archive.get(text):
            add(text, f"Name {what}: '{code}' is ticked in {codes}.")

    flags = archive.get("key_populations") or []
    derived = derived_populations(born, today, child_max_age)
    for flag in DERIVED:
        if flag in flags and flag not in derived:
            add("key_populations", f"'{flag}' follows from the birth date and does not apply "
                                   f"at age {age_on(born, today)}; leave it out.")
    if "maternal" in flags and archive["sex"] != "female":
        add("key_populations", "'maternal' applies to women only; check sex or the flag.")
    # Only the doctor's flags are kept; derived ones are added again when read.
    archive["key_populations"] = sorted({flag for flag in flags if flag in SET_BY_DOCTOR})
    return errors, warnings, card

