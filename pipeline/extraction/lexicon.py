"""Word lists the extraction patterns lean on (English): occupations, diets, relations, languages,
hobbies, and the words that end a value or make a clause no statement of fact."""

from __future__ import annotations

from elephantasm.text import words

# Head nouns of occupations ("a data engineer", "a nurse"); a noun ending in one of
# OCCUPATION_SUFFIXES counts too, unless it is in NOT_OCCUPATIONS.
OCCUPATIONS = words(
    "accountant actor actress analyst architect artist attorney baker barista bartender "
    "biologist carpenter cashier chef chemist clerk coach consultant cook counselor "
    "counsellor dancer dentist designer developer doctor economist editor electrician "
    "engineer farmer firefighter freelancer journalist judge lawyer lecturer librarian "
    "mechanic midwife musician nurse officer paramedic pharmacist photographer physician "
    "physicist pilot plumber poet police policeman policewoman professor programmer "
    "psychologist researcher scientist secretary singer student surgeon tailor teacher "
    "technician therapist translator tutor veterinarian vet waiter waitress writer intern "
    "founder ceo cto cfo manager director administrator assistant recruiter salesperson "
    "agent broker banker trader investor entrepreneur contractor caregiver carer nanny "
    "cleaner driver courier postman mathematician statistician scientist sre devops admin "
    "sysadmin pm lead "
    "dev physio principal postdoc "
)
OCCUPATION_SUFFIXES = ("ist", "ian", "ologist", "grapher", "smith", "wright")
NOT_OCCUPATIONS = words(
    "fan lover beginner member user customer believer person guy girl boy man woman mess "
    "bit lot fool idiot nerd geek night owl early riser morning bird huge big little bit "
    "one type kind sort parent mom mum dad mother father wife husband partner friend "
    "sister brother son daughter vegetarian vegan pescatarian regular newbie noob "
)
DIETS = (
    "vegetarian",
    "vegan",
    "pescatarian",
    "pescetarian",
    "plant-based",
    "plant based",
    "gluten-free",
    "gluten free",
    "gluten intolerant",
    "lactose intolerant",
    "lactose-intolerant",
    "dairy-free",
    "dairy free",
    "keto",
    "paleo",
    "halal",
    "kosher",
    "celiac",
    "coeliac",
    "flexitarian",
    "teetotal",
    "sober",
)
RELATIONS = {
    # word -> (topic, one per person?)
    "wife": ("spouse", True),
    "husband": ("spouse", True),
    "spouse": ("spouse", True),
    "partner": ("partner", True),
    "girlfriend": ("partner", True),
    "boyfriend": ("partner", True),
    "gf": ("partner", True),
    "bf": ("partner", True),
    "fiance": ("partner", True),
    "fiancee": ("partner", True),
    "fiancé": ("partner", True),
    "fiancée": ("partner", True),
    "son": ("child", False),
    "daughter": ("child", False),
    "kid": ("child", False),
    "baby": ("child", False),
    "brother": ("sibling", False),
    "sister": ("sibling", False),
    "mom": ("parent", False),
    "mum": ("parent", False),
    "mother": ("parent", False),
    "dad": ("parent", False),
    "father": ("parent", False),
    "friend": ("friend", False),
    "roommate": ("friend", False),
    "housemate": ("friend", False),
    "novio": ("partner", True),
    "novia": ("partner", True),
    "girl": ("child", False),
    "boy": ("child", False),
    "pup": ("pet", False),
    "flatmate": ("friend", False),
    "dog": ("pet", False),
    "cat": ("pet", False),
    "puppy": ("pet", False),
    "kitten": ("pet", False),
    "parrot": ("pet", False),
    "rabbit": ("pet", False),
    "bunny": ("pet", False),
    "hamster": ("pet", False),
    "horse": ("pet", False),
    "retriever": ("pet", False),
    "labrador": ("pet", False),
    "lab": ("pet", False),
    "terrier": ("pet", False),
    "spaniel": ("pet", False),
    "poodle": ("pet", False),
    "beagle": ("pet", False),
}
LANGUAGES = words(
    "english spanish french german italian portuguese dutch polish russian ukrainian "
    "czech swedish norwegian danish finnish greek turkish arabic hebrew hindi urdu "
    "bengali punjabi tamil telugu marathi mandarin cantonese chinese japanese korean "
    "vietnamese thai indonesian malay tagalog filipino swahili yoruba igbo hausa amharic "
    "persian farsi romanian hungarian serbian croatian bulgarian catalan basque irish "
    "welsh "
)
# Nationalities that are no language's name ("I'm Canadian"); the others are in LANGUAGES.
NATIONALITIES = words(
    "american canadian british scottish mexican brazilian argentinian colombian peruvian "
    "chilean australian indian pakistani nigerian kenyan ghanaian egyptian moroccan "
    "israeli iranian iraqi syrian lebanese belgian swiss austrian "
)
HOBBIES = words(
    "tennis football soccer basketball volleyball badminton squash golf chess poker "
    "guitar piano violin drums cello bass ukulele saxophone flute bouldering climbing "
    "hiking running jogging cycling swimming surfing skiing snowboarding skating yoga "
    "pilates crossfit boxing judo karate kickboxing fencing rowing sailing kayaking "
    "fishing gardening knitting crochet sewing painting drawing pottery photography "
    "baking cooking birdwatching dancing salsa tango ballet gaming woodworking "
    "calligraphy origami sudoku crosswords rugby cricket hockey handball padel pickleball "
    "lacrosse archery triathlons marathons parkrun volunteering bonsai walking bbq skating "
)
HEALTH = (
    "asthma",
    "diabetes",
    "type 1 diabetes",
    "type 2 diabetes",
    "adhd",
    "migraines",
    "arthritis",
    "anxiety",
    "depression",
    "insomnia",
    "high blood pressure",
    "a bad back",
    "tinnitus",
    "epilepsy",
    "eczema",
    "celiac disease",
    "long covid",
)
# Words that end a value ("at Adyen in Amsterdam", "to Lisbon next week").
VALUE_STOPS = words(
    "and but so because since cause cuz though although which who whom whose where when "
    "while until till now today tonight yesterday tomorrow lately recently anymore again "
    "too also lol haha hah lmao btw tbh honestly actually though for with from at in on "
    "near by to this next last after before during as if than then or nor yet like about "
    "around i im i'm we you he she they it its it's that which is was are were be been "
    "being has have had will would can could should might must do does did not no just "
    "really very though right ok okay yeah yes "
    "over "
)
# Place values keep these inside them ("Stoke on Trent" is rare; "New York" is not affected).
PLACE_JOINERS = frozenset({"of", "upon", "de", "del", "la", "le", "am", "an", "der", "and", "the"})
# Lower-case words that end a name of a place of study or work ("Salford uni").
INSTITUTIONS = frozenset({"uni", "university", "college", "school", "high", "academy", "institute"})
# A clause with one of these is no statement of fact about the speaker.
HYPOTHETICAL = (
    r"\bif (?:i|we)\b",
    r"\b(?:i|we) (?:would|might|could|may) (?!be )",
    r"\bshould (?:i|we)\b",
    r"\bwhat if\b",
    r"\bthinking (?:about|of)\b",
    r"\bconsidering\b",
    r"\bwondering\b",
    r"\bdreams? of\b",
    r"\bwish (?:i|we)\b",
    r"\bpretend\b",
    r"\bimagine\b",
    r"\bsomeday\b",
    r"\bone day\b",
    r"\bmaybe (?:i|we)(?:'ll| will)\b",
)
# Things a speaker "loves" that are no lasting preference ("I love that idea").
NOT_LIKES = words(
    "it that this these those you them him her the idea your idea to hear how when what "
    "working talking chatting reading this idea it so it when "
)
