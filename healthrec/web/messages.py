"""The messages the schemas and services answer, as the pages show them.

The API answers English sentences, the same for every client. A page shows each message
in the reader's language: every known message has a pattern here whose template is a
catalogue entry (healthrec/translations), so the Chinese says what to do about the field.
A message without a pattern (a new one) is shown as it came, never hidden.
"""

import re

from flask_babel import gettext


def _l(msgid):
    """Marks a template for the catalogue (Babel extracts `_l`); translated when used."""
    return msgid


# Words the services put inside their sentences.
WORDS = {
    "male": _l("male"), "female": _l("female"), "odd": _l("odd"), "even": _l("even"),
    "pending": _l("pending"), "awaiting_consent": _l("awaiting_consent"), "active": _l("active"),
    "expired": _l("expired"), "rejected": _l("rejected"), "refused": _l("refused"),
    "revoked": _l("revoked"), "withdrawn": _l("withdrawn"),
}

# (the message as the schema or service says it, with named groups; the template)
PATTERNS = [
    # marshmallow's own
    (r"Missing data for required field\.", _l("Required: fill this in.")),
    (r"Not a valid integer\.", _l("Enter a whole number.")),
    (r"Not a valid number\.", _l("Enter a number.")),
    (r"Not a valid date\.", _l("Enter a date as year-month-day, e.g. 2026-03-01.")),
    (r"Not a valid boolean\.", _l("Answer yes or no.")),
    (r"Field may not be null\.", _l("Required: fill this in.")),
    (r"Unknown field\.", _l("This field is not part of the form.")),
    (r"Must be one of: .*\.", _l("Choose one of the options given.")),
    (r"Shorter than minimum length (?P<min>\d+)\.", _l("Enter at least %(min)s characters.")),
    (r"Longer than maximum length (?P<max>\d+)\.", _l("Shorten this to at most %(max)s characters.")),
    (r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.",
     _l("Enter %(min)s to %(max)s characters.")),
    (r"Must be 1 to (?P<max>\d+) characters\.", _l("Enter 1 to %(max)s characters.")),
    (r"Must be greater than or equal to (?P<min>[\d.]+)\.", _l("Enter %(min)s or more.")),
    (r"Must be less than or equal to (?P<max>[\d.]+)\.", _l("Enter %(max)s or less.")),
    # the schemas'
    (r"Must be between (?P<low>[\d.]+) and (?P<high>[\d.]+)\.",
     _l("Enter a value from %(low)s to %(high)s.")),
    (r"Must be between (?P<low>\d+) and (?P<high>\d+) archives\.",
     _l("Enter a number of archives from %(low)s to %(high)s.")),
    (r"Must be between (?P<low>[\d.]+) and (?P<high>[\d.]+) (?P<unit>.+)\.",
     _l("Enter a value from %(low)s to %(high)s %(unit)s; check the measurement.")),
    (r"Must be between (?P<low>\d{4}-\d\d-\d\d) and today \((?P<today>[\d-]+)\)\.",
     _l("Enter a day from %(low)s to today (%(today)s).")),
    (r"Must be lower than the systolic pressure\.",
     _l("The diastolic pressure must be lower than the systolic; check both readings.")),
    (r"Give an 11-digit mobile number .*",
     _l("Enter an 11-digit mobile number (13812345678) or a landline with its area code (0370-7654321).")),
    (r"Use YYYY, YYYY-MM or YYYY-MM-DD\.", _l("Enter the year, year-month or full date, e.g. 2015 or 2015-06.")),
    (r"Give the 12-digit village code\.|Give a 12-digit village code\.|Must be a 12-digit village code\.",
     _l("Enter the 12-digit village code.")),
    (r"Must be a region code of 6, 9 or 12 digits\.",
     _l("Enter the region code of the receiving institution: 6, 9 or 12 digits.")),
    (r"An archive is kept only with the resident's consent.*",
     _l("An archive is kept only with the resident's consent; without it, do not create the archive.")),
    (r"Name the archive that is kept\.", _l("Enter the code of the archive that is kept.")),
    (r"Say why in a note when the reason is 'other'\.", _l("Say why in the note when the reason is 'other'.")),
    (r"Tell the village doctor what to correct\.", _l("Tell the village doctor what to correct.")),
    (r"Must be after the follow-up date and within a year: (?P<first>[\d-]+) to (?P<last>[\d-]+)\.",
     _l("Plan the next follow-up after this one and within a year: %(first)s to %(last)s.")),
    (r"A prenatal visit needs the gestational week \(1 to 45 weeks\)\.",
     _l("A prenatal visit needs the gestational week (1 to 45 weeks).")),
    (r"Name each abnormal finding when the result is abnormal\.",
     _l("List each abnormal finding, one per line, when the result is abnormal.")),
    (r"Only an abnormal result lists abnormal findings\.",
     _l("Leave the abnormal findings empty when the result is normal.")),
    (r"'none' cannot be combined with other symptoms\.",
     _l("Tick either 'none' or the symptoms, not both.")),
    (r"Must not be before the starting age\.", _l("The age of quitting cannot be before the age of starting.")),
    (r"Must not be before the admission date \((?P<day>[\d-]+)\)\.",
     _l("The discharge cannot be before the admission (%(day)s).")),
    (r"Name 1 to 20 consulted doctors\.", _l("Enter 1 to 20 consulted doctors.")),
    (r"May not be blank\.", _l("Required: fill this in.")),
    (r"Say why the request is rejected\.", _l("Say why the request is rejected; the requester is told.")),
    (r"Required when consent is given by a guardian\.", _l("Required when a guardian gives the answer.")),
    (r"Send given_by guardian with a guardian's name and relation\.",
     _l("Choose 'guardian' when you enter a guardian's name and relation.")),
    (r"Verbal consent needs the name of the witness\.", _l("Verbal consent needs the name of the witness.")),
    (r"'(?P<code>\d+)' is not an archive code: it has (?P<n>\d+) digits.*",
     _l("An archive code has %(n)s digits: the village code and the serial.")),
    # the ID card (healthrec.ids)
    (r"An ID card number has 18 characters; this one has (?P<n>\d+)\.",
     _l("An ID card number has 18 characters; you entered %(n)s. Check it against the card.")),
    (r"An ID card number is 17 digits followed by a digit or X\.",
     _l("An ID card number is 17 digits followed by a digit or X; check for letters or spaces.")),
    (r"The check digit \(last character\) does not match the other 17.*",
     _l("The check digit (the last character) does not match the other 17: one was probably "
        "mistyped. Compare each digit with the card.")),
    (r"Characters 7-14 \((?P<digits>\d+)\) are not a real date YYYYMMDD\.",
     _l("Characters 7-14 (%(digits)s) are not a real date; check the birth date part of the number.")),
    (r"The birth date in the number \((?P<day>[\d-]+)\) is not plausible\.",
     _l("The birth date in the number (%(day)s) is not possible; check the number.")),
    (r"The area code (?P<area>\d+) is not known for (?P<year>\d+); .*",
     _l("The area code %(area)s was not in use in %(year)s; check the first six digits against the card.")),
    (r"The ID card says the birth date is (?P<card>[\d-]+), not (?P<given>[\d-]+)\.",
     _l("The ID card says the birth date is %(card)s, not %(given)s: correct the birth date or the number.")),
    (r"The ID card's 17th digit is (?P<parity>odd|even), which means (?P<card>male|female), but sex is "
     r"(?P<given>male|female)\.",
     _l("The ID card's 17th digit is %(parity)s, which means %(card)s, but %(given)s was chosen: correct "
        "the sex or the number.")),
    # archives
    (r"The birth date lies in the future\.", _l("The birth date is in the future; check it.")),
    (r"The birth date is before 1880; check the year\.", _l("The birth date is before 1880; check the year.")),
    (r"Without an ID card number .* needs a guardian.*",
     _l("A resident without an ID card number (a newborn, say) needs a guardian: enter the guardian's "
        "name and relation, or the ID card number.")),
    (r"'(?P<flag>\w+)' follows from the birth date and does not apply at age (?P<age>\d+); leave it out\.",
     _l("This group follows from the birth date and does not apply at age %(age)s; untick it.")),
    (r"'maternal' applies to women only; check sex or the flag\.",
     _l("Maternal care applies to women only; check the sex or untick it.")),
    (r"The name is empty\.", _l("Required: fill this in.")),
    (r"There is no village (?P<village>\d+);.*",
     _l("There is no village %(village)s; check the code, or ask the administrator to add the village.")),
    (r"There is no active user (?P<user>.+)\.", _l("There is no active user %(user)s.")),
    (r"(?P<user>\S+) is not a village doctor or township staff member serving village (?P<village>\d+)\.",
     _l("%(user)s does not serve village %(village)s; enter a doctor of this village.")),
    (r"This ID card already has archive (?P<id>\d+); open that one instead\.",
     _l("This ID card already has archive %(id)s; open that one instead.")),
    (r"This person already has an archive, registered outside your region\..*",
     _l("This person already has an archive outside your region. Ask its township health centre to "
        "transfer it, or file an access request to read it.")),
    (r"Someone else is registering this ID card at this moment.*|.*registration of .* under way.*",
     _l("Someone is registering this ID card at this moment; try again in a minute.")),
    (r"The closing date lies in the future\.", _l("The closing date is in the future; check it.")),
    (r"The closing date is before the resident's birth date\.",
     _l("The closing date is before the resident's birth date; check it.")),
    (r"(?P<id>\d+) is not another open archive; name the archive kept\.",
     _l("%(id)s is not another open archive; enter the code of the archive that is kept.")),
    (r"The archive lacks (?P<missing>.+), so it cannot be qualified;.*",
     _l("The archive still lacks %(missing)s, so it cannot be qualified: choose 'needs correction' and tell "
        "the village doctor what to add.")),
    (r"Archive (?P<id>\d+) has changed since you read it\..*",
     _l("Someone changed archive %(id)s while you were working on it. Reload the page and make your "
        "change again.")),
    (r"Archive (?P<id>\d+) was closed on (?P<day>[\d-]+) .*",
     _l("Archive %(id)s was closed on %(day)s; a closed archive is kept as it is.")),
    # records
    (r"There is no region (?P<code>\d+); give the region code of the receiving institution\.",
     _l("There is no region %(code)s; enter the region code of the receiving institution.")),
    (r"This key was already used for a different request.*",
     _l("This form was already saved with other contents. Open the form again to add another record.")),
    (r"These changes leave the record as it is; nothing was amended\.",
     _l("Nothing was changed in the form, so nothing was corrected.")),
    (r"Name at least one change\.", _l("Nothing was changed in the form, so nothing was corrected.")),
    (r"Record (?P<id>\w+) was changed by someone else meanwhile.*",
     _l("Someone corrected this record while you were working on it. Reload it and make your change again.")),
    (r"Referral (?P<id>\w+) was already received by (?P<user>\S+) at .*",
     _l("This referral was already received by %(user)s.")),
    (r"The receiving side confirms a referral, not the doctor who sent it\.",
     _l("The receiving side confirms a referral, not the doctor who sent it.")),
    # transfers
    (r"Give the 12-digit code of the village the resident moved to\.",
     _l("Enter the 12-digit code of the village the resident moved to.")),
    (r"Village (?P<village>\d+) manages this archive already; nothing needs to move\.",
     _l("Village %(village)s manages this archive already; nothing needs to move.")),
    (r"The day of moving lies in the future.*",
     _l("The day of moving is in the future; ask once the resident has moved.")),
    (r"The day of moving is before the resident's birth date\.",
     _l("The day of moving is before the resident's birth date; check it.")),
    (r"Tell the receiving side why the transfer is refused\.",
     _l("Tell the receiving side why the transfer is refused.")),
    (r"Transfer \S+ of this archive to village (?P<village>\d+) is still open.*",
     _l("A transfer of this archive to village %(village)s is still open; wait for its township's decision.")),
    (r"Another transfer of this archive was asked for at the same moment.*",
     _l("Another transfer of this archive was asked for at the same moment; see the list of transfers.")),
    (r"The transfer is (?P<status>\w+), and only a pending one is decided.*",
     _l("This transfer has already been decided or has run out; nothing was changed.")),
    (r"The archive has moved to village (?P<village>\d+) since the transfer was asked for.*",
     _l("The archive has moved to village %(village)s since; refuse this transfer and let the receiving side ask "
        "again.")),
    (r"The archive was closed after the transfer was asked for; refuse the transfer\.",
     _l("The archive was closed after the transfer was asked for; refuse the transfer.")),
    (r"Someone else decided this transfer at the same moment.*",
     _l("Someone else decided this transfer at the same moment; reload the page. Nothing was changed.")),
    (r"A transfer to village (?P<village>\d+) is asked for by the receiving side.*",
     _l("A transfer to village %(village)s is asked for by that village's doctor or its township health centre.")),
    (r"Only staff of township health centre (?P<township>\d+), which manages the archive now, confirm.*",
     _l("Only the township health centre that manages the archive now confirms or refuses its transfer.")),
    (r"There is no (?P<level>village|township|county) (?P<code>\d+);.*",
     _l("There is no region %(code)s; check the code.")),
    (r"(?P<what>.+) (?P<code>\d+) \((?P<name>[^)]+)\) was retired on (?P<day>[\d-]+).*",
     _l("%(name)s (%(code)s) was retired on %(day)s; use the region that took it over.")),
    # alerts on a record (healthrec/records/alerts.py); `items` are localised one by one
    (r"Danger value: (?P<items>.+)\. Refer at once to a higher-level institution.*",
     _l("Danger value: %(items)s. Refer the resident to a higher-level institution at once and follow up within "
        "2 weeks; they stay on the urgent list until the referral is recorded.")),
    (r"blood pressure (?P<reading>\S+ mmHg) \(systolic (?P<s>\d+) or more, or diastolic (?P<d>\d+) or more\)",
     _l("blood pressure %(reading)s (systolic %(s)s or more, or diastolic %(d)s or more)")),
    (r"fasting glucose (?P<value>[\d.]+) mmol/L \((?P<high>[\d.]+) or more, or (?P<low>[\d.]+) or less\)",
     _l("fasting glucose %(value)s mmol/L (%(high)s or more, or %(low)s or less)")),
    (r"risk assessment level (?P<level>\d+) \((?P<top>\d+) or more\)",
     _l("risk assessment level %(level)s (%(top)s or more)")),
    (r"an adverse drug reaction", _l("an adverse drug reaction")),
    (r"a complication or comorbidity", _l("a complication or comorbidity")),
    (r"From 65 years a checkup records the health and self-care self-assessments.*",
     _l("From 65 years a checkup records the health and self-care self-assessments and the cognition and emotion "
        "screens; add them.")),
    # access
    (r"At most (?P<days>\d+) days can be requested.*|At most (?P<max>\d+)\.",
     _l("Ask for at most the number of days allowed; ask again when they run out.")),
    (r"The request is (?P<status>\w+), and this step needs it .*",
     _l("The request is now %(status)s, so this step cannot be taken; nothing was changed.")),
    (r"You made this request, so another staff member must decide it and record consent\.",
     _l("You made this request, so another staff member must decide it and record consent.")),
    (r"(?P<user>\S+) has already acknowledged this opening; nothing was changed\.",
     _l("%(user)s has already reviewed this opening; nothing was changed.")),
    (r"This archive is within your own scope: open it directly\.",
     _l("This archive is within your own region: open it directly.")),
    (r"You may already read this archive under an active grant or emergency opening\.",
     _l("You may already read this archive under an approved request or an emergency opening.")),
    (r"You approved this request, so another colleague .*",
     _l("You approved this request, so another colleague (township health centre staff or the village doctor) "
        "must record the resident's answer; nothing was recorded.")),
    (r"No archive (?P<id>\d+) that you can open in an emergency: .*",
     _l("There is no archive %(id)s that you can open in an emergency: only archives of your own county can be "
        "opened so. Check the number; for an archive elsewhere, file an access request.")),
    (r"You have made (?P<limit>\d+) emergency openings today, .*",
     _l("You have made %(limit)s emergency openings today, the most allowed a day; your township health centre "
        "and the county's supervisors have been told. Ask the township health centre that manages the archive, "
        "or file an access request; you can open archives in an emergency again tomorrow.")),
    (r"Someone else changed this at the same moment; reload it\. Nothing was changed\.",
     _l("Someone else changed this at the same moment; reload the page. Nothing was changed.")),
    # scope
    (r"(It is managed by village \d+ now, which|\d+) is outside your region \d+\. To use .*",
     _l("This archive is managed outside your region. To use it, file an access request with its township "
        "health centre; it can be used once the centre approves and the resident consents.")),
    (r"Supervisors see indicators, not identifiable archives\..*",
     _l("Supervisors see indicators, not a resident's archive. To use one, file an access request with its "
        "township health centre.")),
    (r"Only township health centre staff review archives\.", _l("Only township health centre staff review archives.")),
    (r"You can \w+ archives only in villages within your region.*",
     _l("You can create archives only in the villages of your own region.")),
    (r"No archive (?P<id>\d+)\.", _l("There is no archive %(id)s.")),
    (r"No archive (?P<id>\d+) that you may use\..*",
     _l("There is no archive %(id)s that you may use. Check the number. An archive managed outside your region "
        "is used through an access request to its township health centre, or in an emergency opened by a "
        "clinician.")),
    (r"A name or ID card number is not taken in a URL.*",
     _l("A name or ID card number may not be put in a web address, where access logs keep it; use the search.")),
    (r"Record \S+ has changed since you read it.*",
     _l("Someone changed this record since you opened it; open it again and make your correction there. "
        "Nothing was changed.")),
    (r"Send If-Match with the ETag of your last GET of this record.*",
     _l("Open the record again and make your correction there. Nothing was changed.")),
    # the database cut off, and a form sent again meanwhile
    (r"The database does not answer; nothing was changed\..*",
     _l("The database does not answer; nothing was changed. Try again in a moment.")),
    (r"The database stopped answering during this request.*",
     _l("The connection to the database broke off while saving, so this may or may not have been saved. In a "
        "moment go back and send the form again unchanged: what was saved is then shown, and nothing is saved "
        "twice.")),
    (r"A request with this Idempotency-Key is still being processed.*",
     _l("This form is still being saved, or the saving broke off less than a minute ago. Send it again unchanged "
        "in a minute.")),
    (r"The audit trail is kept by the township health centre.*",
     _l("The audit trail is kept by the township health centre; ask its staff for a report of who used an archive.")),
    # accounts (administrators' pages)
    (r"3-32 characters: lower-case letters, digits, '_', '\.', '-'\.",
     _l("Use 3 to 32 characters: lower-case letters, digits, '_', '.' or '-'.")),
    (r"A \w+ needs a region code of [\d or]+ digits, got .*",
     _l("The region code does not suit the role: a village doctor has a village (12 digits), township staff a "
        "township (9), supervisors and administrators a county (6) or a prefecture or province (4, 2).")),
    (r"Must be a region code of 2, 4, 6, 9 or 12 digits\.", _l("Enter a region code of 2, 4, 6, 9 or 12 digits.")),
    (r"Region (?P<code>\d+) does not exist; import it first\.",
     _l("Region %(code)s does not exist; import it first.")),
    (r"Region (?P<code>\d+) was retired on (?P<day>[\d-]+).*",
     _l("Region %(code)s was retired on %(day)s; use the region that took it over.")),
    (r"User (?P<user>\S+) already exists\.", _l("The username %(user)s is taken; choose another.")),
    (r"Region (?P<code>\d+) is outside your region (?P<region>\d+); manage accounts within it\.",
     _l("Region %(code)s is not within your region %(region)s; you manage the accounts of your own region.")),
    (r"You cannot disable your own account; ask another administrator\.",
     _l("You cannot disable your own account; ask another administrator.")),
    (r"These pages are for administrators\.", _l("These pages are for administrators.")),
    # the regions import, line by line
    (r"expected 4 to 7 fields .*, got (?P<n>\d+)",
     _l("a line has 4 to 7 fields: code,name,population,year[,kind[,valid_from[,valid_to]]]; this one has %(n)s")),
    (r"the name is empty", _l("the name is empty")),
    (r"parent region (?P<code>\d+) is neither imported nor earlier in the file",
     _l("the region above it, %(code)s, is neither imported nor on an earlier line")),
    (r"parent region (?P<code>\d+) was retired on (?P<day>[\d-]+);.*",
     _l("the region above it, %(code)s, was retired on %(day)s; put the new region under one still valid")),
    (r"kind must be one of .*", _l("the kind is urban, rural or other")),
    (r"kind \(urban, rural, other\) is given for villages only", _l("only villages have a kind")),
    (r"(?P<name>valid_from|valid_to) must be a date YYYY-MM-DD, got .*",
     _l("%(name)s is a date written YYYY-MM-DD")),
    (r"valid_to (?P<to>\S+) is before valid_from (?P<since>\S+)",
     _l("valid_to %(to)s is before valid_from %(since)s")),
    (r"population must be a whole number, got .*", _l("the population must be a whole number")),
    (r"year must be a four-digit year, got .*", _l("the year must be written with four digits")),
    (r"'(?P<code>[^']*)' is not a region code: .*",
     _l("'%(code)s' is not a region code: 6 digits for a county, 9 for a township, 12 for a village")),
    (r"(?P<code>\d+): the last three digits may not be 000\.",
     _l("%(code)s: the last three digits may not be 000")),
    (r"(?P<code>\d+): village segment (?P<segment>\d+) is not allowed; .*",
     _l("%(code)s: the village part %(segment)s does not follow the county's coding rule")),
    (r"region (?P<code>\d+) is outside your region (?P<region>\d+)",
     _l("region %(code)s is not within your region %(region)s")),
    (r"Regions and populations are imported by administrators\.",
     _l("Regions and populations are imported by administrators.")),
    (r"The encryption keys' status is shown to administrators\.",
     _l("The encryption keys' status is shown to administrators.")),
    # indicators and verification samples
    (r"as_of lies in the future; give today \((?P<today>[\d-]+)\) or an earlier day\.",
     _l("The day cannot be later than today (%(today)s); choose today or an earlier day.")),
    (r"(The first day comes after the last; )?Give a year \(2026\) or a first and last day joined by a slash.*",
     _l("Enter a year (2026), or a first and last day joined by a slash (2026-01-01/2026-06-30), the first day "
        "not after the last.")),
    (r"Give a region code: 12 digits \(village\), 9 \(township\), 6 \(county\), or 4 or 2.*",
     _l("Enter a region code: 12 digits (village), 9 (township), 6 (county), or 4 or 2 (prefecture, province).")),
    (r"Region (?P<region>\d+) is outside your region (?P<own>\d+); .*",
     _l("Region %(region)s is not in your region %(own)s; choose %(own)s or a region within it.")),
    (r"No region (?P<code>\d+)\.|No county has a code starting with (?P<prefix>\d+)\.",
     _l("There is no such region; check the code.")),
    (r"Administrators manage users, regions and keys; indicators are for supervisors and health staff\.",
     _l("Administrators manage users, regions and keys; the indicators are for supervisors and health staff.")),
    (r"Verification samples are drawn by supervisors and township health centres, not by the clinics they assess\.",
     _l("Verification samples are drawn by supervisors and township health centres, not by the village clinics "
        "they assess.")),
    (r"Give a last day from today to (?P<last>[\d-]+) \(at most (?P<days>\d+) days away\)\.",
     _l("Choose a last day from today to %(last)s (at most %(days)s days away).")),
    (r"Region (?P<region>\d+) has (?P<n>\d+) archived archives; ask for at most that many\.",
     _l("This region has %(n)s open archives; draw at most %(n)s.")),
    (r"(?P<user>\S+) is not a supervisor or township health centre staff member of the county of region .*",
     _l("%(user)s is not a supervisor or township health centre staff member of this county; name such a user.")),
    (r"Name what the archive lacks, so the village doctor can complete it\.",
     _l("Write what the archive lacks, one item per line, so the village doctor can complete it.")),
    (r"A qualified archive lacks nothing; leave missing empty or set qualified to false\.",
     _l("A qualified archive lacks nothing: empty this field, or answer 'no' to qualified.")),
    (r"Archive (?P<id>\d+) was not drawn in this sample.*",
     _l("Archive %(id)s was not drawn in this sample; record results for the drawn archives only.")),
    (r"The sample is (?P<status>\w+); results are recorded while it is open, up to its last day (?P<day>[\d-]+)\.",
     _l("The sample has ended (its last day was %(day)s); no more results can be recorded.")),
    (r"(?P<user>\S+) already recorded the result of archive (?P<id>\d+) on (?P<day>[\d-]+); .*",
     _l("%(user)s already recorded the result of archive %(id)s on %(day)s; a recorded result is kept as it is.")),
    (r"The sample is already (?P<status>\w+); nothing was changed\.",
     _l("The sample has already ended; nothing was changed.")),
    (r"Only the sample's checkers \((?P<users>.*)\) record its results\.",
     _l("Only the sample's checkers (%(users)s) record its results.")),
    (r"A sample is (seen|closed) by .*",
     _l("This sample belongs to its checkers, whoever drew it and the assessors of its region.")),
    (r"No verification sample (?P<id>\w+)\.", _l("There is no such verification sample.")),
]
COMPILED = [(re.compile(pattern), template) for pattern, template in PATTERNS]


def localise(message):
    """`message` in the reader's language (or as it came, when no pattern knows it)."""
    for pattern, template in COMPILED:
        found = pattern.fullmatch(message)
        if found:
            words = {name: gettext(WORDS[value]) if value in WORDS else value
                     for name, value in found.groupdict().items() if value is not None}
            if "items" in words:
                words["items"] = gettext("; ").join(localise(item) for item in words["items"].split("; "))
            return gettext(template, **words)
    return message


def localise_all(errors):
    """{field: [messages]} with each message localised."""
    return {name: [localise(str(message)) for message in messages] for name, messages in errors.items()}
