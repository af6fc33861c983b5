"""The coded lists of the personal basic information form (个人基本信息表) of the national
basic public health service specification (国家基本公共卫生服务规范, 3rd edition): the
code stored for each box of the form, and its label.

Codes are English words, as everywhere in the API; the labels carry the form's wording.
Sex follows GB/T 2261.1 and ethnic groups GB/T 3304, in their order.
"""

from flask_babel import lazy_gettext as _l

SEX = {"male": _l("Male"), "female": _l("Female"), "unknown": _l("Sex unknown"),
       "unspecified": _l("Sex not stated")}

RELATIONS = {"father": _l("Father"), "mother": _l("Mother"), "grandparent": _l("Grandparent"),
             "spouse": _l("Spouse"), "child": _l("Son or daughter"), "sibling": _l("Brother or sister"),
             "other": _l("Other relation")}

# 家族史 asks about these relatives (直系亲属).
RELATIVES = {"father": _l("Father"), "mother": _l("Mother"), "sibling": _l("Brother or sister"),
             "child": _l("Son or daughter")}

RESIDENCE = {"registered": _l("Registered household (户籍)"), "non_registered": _l("Not registered here")}

ETHNICITY = {
    "han": _l("Han"), "mongol": _l("Mongol"), "hui": _l("Hui"), "tibetan": _l("Tibetan"),
    "uyghur": _l("Uyghur"), "miao": _l("Miao"), "yi": _l("Yi"), "zhuang": _l("Zhuang"),
    "bouyei": _l("Bouyei"), "korean": _l("Korean"), "manchu": _l("Manchu"), "dong": _l("Dong"),
    "yao": _l("Yao"), "bai": _l("Bai"), "tujia": _l("Tujia"), "hani": _l("Hani"), "kazakh": _l("Kazakh"),
    "dai": _l("Dai"), "li": _l("Li"), "lisu": _l("Lisu"), "va": _l("Va"), "she": _l("She"),
    "gaoshan": _l("Gaoshan"), "lahu": _l("Lahu"), "sui": _l("Sui"), "dongxiang": _l("Dongxiang"),
    "naxi": _l("Naxi"), "jingpo": _l("Jingpo"), "kyrgyz": _l("Kyrgyz"), "tu": _l("Tu"), "daur": _l("Daur"),
    "mulao": _l("Mulao"), "qiang": _l("Qiang"), "blang": _l("Blang"), "salar": _l("Salar"),
    "maonan": _l("Maonan"), "gelao": _l("Gelao"), "xibe": _l("Xibe"), "achang": _l("Achang"),
    "pumi": _l("Pumi"), "tajik": _l("Tajik"), "nu": _l("Nu"), "uzbek": _l("Uzbek"), "russian": _l("Russian"),
    "evenki": _l("Evenki"), "deang": _l("De'ang"), "bonan": _l("Bonan"), "yugur": _l("Yugur"),
    "gin": _l("Gin"), "tatar": _l("Tatar"), "derung": _l("Derung"), "oroqen": _l("Oroqen"),
    "hezhen": _l("Hezhen"), "monba": _l("Monba"), "lhoba": _l("Lhoba"), "jino": _l("Jino"),
    "unidentified": _l("Other, not yet identified"), "naturalised": _l("Naturalised citizen of foreign origin"),
}

ABO = {"a": _l("Type A"), "b": _l("Type B"), "o": _l("Type O"), "ab": _l("Type AB"), "unknown": _l("Not known")}
RH = {"negative": _l("Rh negative"), "positive": _l("Rh positive"), "unknown": _l("Not known")}

EDUCATION = {
    "postgraduate": _l("Postgraduate"), "undergraduate": _l("University (bachelor)"),
    "junior_college": _l("Junior college"), "secondary_specialised": _l("Secondary specialised school"),
    "technical_school": _l("Technical school"), "senior_high": _l("Senior high school"),
    "junior_high": _l("Junior high school"), "primary": _l("Primary school"),
    "illiterate": _l("Illiterate or semi-literate"), "unknown": _l("Not known"),
}

OCCUPATION = {
    "heads_of_organisations": _l("Heads of state organs, party, enterprises and institutions"),
    "professionals": _l("Professional and technical staff"), "clerks": _l("Clerks and related staff"),
    "commerce_and_services": _l("Commerce and service staff"),
    "agriculture": _l("Farming, forestry, animal husbandry, fishery and water conservancy"),
    "production_and_transport": _l("Production and transport equipment operators"),
    "military": _l("Military"), "other": _l("Other workers not classified"), "none": _l("No occupation"),
}

MARITAL_STATUS = {"unmarried": _l("Unmarried"), "married": _l("Married"), "widowed": _l("Widowed"),
                  "divorced": _l("Divorced"), "unspecified": _l("Marital status not stated")}

PAYMENT_METHODS = {
    "employee_insurance": _l("Urban employees' basic medical insurance"),
    "resident_insurance": _l("Urban residents' basic medical insurance"),
    "rural_cooperative": _l("New rural cooperative medical scheme"), "poverty_relief": _l("Poverty relief"),
    "commercial_insurance": _l("Commercial medical insurance"), "public_funded": _l("Fully publicly funded"),
    "self_paid": _l("Fully self-paid"), "other": _l("Other"),
}

DRUG_ALLERGIES = {"penicillin": _l("Penicillin"), "sulfonamide": _l("Sulfonamides"),
                  "streptomycin": _l("Streptomycin"), "other": _l("Other drugs")}

EXPOSURES = {"chemicals": _l("Chemicals"), "poisons": _l("Poisons"), "radiation": _l("Radiation")}

# 既往史 疾病 (with the date of diagnosis); the form asks the site of a cancer and the name
# of an occupational or other disease.
DISEASES = {
    "hypertension": _l("Hypertension"), "diabetes": _l("Diabetes"),
    "coronary_heart_disease": _l("Coronary heart disease"),
    "copd": _l("Chronic obstructive pulmonary disease"), "malignant_tumour": _l("Malignant tumour"),
    "stroke": _l("Stroke"), "severe_mental_disorder": _l("Severe mental disorder"),
    "tuberculosis": _l("Tuberculosis"), "hepatitis": _l("Hepatitis"),
    "other_notifiable_infectious": _l("Other notifiable infectious disease"),
    "occupational_disease": _l("Occupational disease"), "other": _l("Other"),
}
NAMED_DISEASES = ("malignant_tumour", "occupational_disease", "other")

FAMILY_CONDITIONS = {
    "hypertension": _l("Hypertension"), "diabetes": _l("Diabetes"),
    "coronary_heart_disease": _l("Coronary heart disease"),
    "copd": _l("Chronic obstructive pulmonary disease"), "malignant_tumour": _l("Malignant tumour"),
    "stroke": _l("Stroke"), "severe_mental_disorder": _l("Severe mental disorder"),
    "tuberculosis": _l("Tuberculosis"), "hepatitis": _l("Hepatitis"),
    "congenital_malformation": _l("Congenital malformation"), "other": _l("Other"),
}

DISABILITIES = {"visual": _l("Visual"), "hearing": _l("Hearing"), "speech": _l("Speech"),
                "physical": _l("Physical"), "intellectual": _l("Intellectual"), "mental": _l("Mental"),
                "other": _l("Other disability")}

# 生活环境
KITCHEN_EXHAUST = {"none": _l("None"), "range_hood": _l("Range hood"), "exhaust_fan": _l("Exhaust fan"),
                   "chimney": _l("Chimney")}
FUEL = {"lpg": _l("Liquefied gas"), "coal": _l("Coal"), "natural_gas": _l("Natural gas"),
        "biogas": _l("Biogas"), "firewood": _l("Firewood"), "other": _l("Other")}
WATER = {"tap": _l("Tap water"), "purified": _l("Purified or filtered water"), "well": _l("Well water"),
         "river_lake": _l("River or lake water"), "pond": _l("Pond water"), "other": _l("Other")}
TOILET = {"sanitary": _l("Sanitary toilet"), "pit_cesspool": _l("One- or two-compartment cesspool"),
          "commode": _l("Commode"), "open_pit": _l("Open pit"), "simple_shed": _l("Simple shed latrine")}
LIVESTOCK_PEN = {"none": _l("None"), "separate": _l("Separate"), "indoor": _l("Indoors"),
                 "outdoor": _l("Outdoors")}

# 重点人群: the follow-up forms and the archive's flags.
POPULATIONS = {"elderly": _l("Elderly (65 and over)"), "child": _l("Child (0-6 years)"),
               "maternal": _l("Pregnant or postpartum woman"), "hypertension": _l("Hypertension"),
               "diabetes": _l("Type 2 diabetes"), "severe_mental_disorder": _l("Severe mental disorder"),
               "tuberculosis": _l("Pulmonary tuberculosis")}
