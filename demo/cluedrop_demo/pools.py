"""Attribute pools of the synthetic biographies (bioS style).

Every person draws a first and last name, a birth date, a birth city, a
university, a major and a company; the company fixes the company city (its
headquarters), as in bioS. Pools are fixed lists so a seed reproduces the
same people everywhere.
"""

FIRST_NAMES_MALE = [
    "Liam", "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry",
    "Theodore", "Jack", "Levi", "Alexander", "Jackson", "Mateo", "Daniel", "Michael", "Mason",
    "Sebastian", "Ethan", "Logan", "Owen", "Samuel", "Jacob", "Asher", "Aiden", "John", "Joseph",
    "Wyatt", "David", "Leo", "Luke", "Julian", "Hudson", "Grayson", "Matthew", "Ezra", "Gabriel",
    "Carter", "Isaac",
]
FIRST_NAMES_FEMALE = [
    "Olivia", "Emma", "Charlotte", "Amelia", "Sophia", "Mia", "Isabella", "Ava", "Evelyn",
    "Luna", "Harper", "Camila", "Sofia", "Scarlett", "Elizabeth", "Eleanor", "Emily", "Chloe",
    "Mila", "Violet", "Penelope", "Gianna", "Aria", "Abigail", "Ella", "Avery", "Hazel", "Nora",
    "Layla", "Lily", "Aurora", "Nova", "Ellie", "Madison", "Grace", "Isla", "Willow", "Zoe",
    "Riley", "Stella",
]
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Kim", "Chen", "Novak", "Schmidt",
    "Rossi", "Dubois", "Tanaka", "Kowalski", "Silva", "Larsen",
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
CITIES = [
    "Melbourne, Australia", "Madrid, Spain", "Seoul, South Korea", "Beijing, China",
    "Toronto, Canada", "Chicago, Illinois", "Lyon, France", "Munich, Germany", "Osaka, Japan",
    "Nairobi, Kenya", "Lima, Peru", "Oslo, Norway", "Krakow, Poland", "Porto, Portugal",
    "Austin, Texas", "Dublin, Ireland", "Vienna, Austria", "Cairo, Egypt", "Denver, Colorado",
    "Naples, Italy", "Bogota, Colombia", "Hanoi, Vietnam", "Prague, Czech Republic",
    "Seattle, Washington", "Athens, Greece", "Mumbai, India", "Boston, Massachusetts",
    "Zurich, Switzerland", "Santiago, Chile", "Helsinki, Finland",
]
UNIVERSITIES = [
    "Sorbonne University", "the University of Cambridge", "Stanford University",
    "the University of Tokyo", "McGill University", "the University of Melbourne",
    "Heidelberg University", "the University of Chicago", "Seoul National University",
    "the University of Toronto", "Peking University", "ETH Zurich", "the University of Oslo",
    "Columbia University", "the University of Edinburgh", "Duke University",
    "the University of Vienna", "Rice University", "the University of Helsinki",
    "Boston University", "the University of Lisbon", "Trinity College Dublin",
    "the University of Warsaw", "Cornell University",
]
MAJORS = [
    "Biomedical Engineering", "Marketing", "Electrical Engineering", "Environmental Science",
    "Computer Science", "Economics", "Mechanical Engineering", "Chemistry", "Physics",
    "Mathematics", "Psychology", "Architecture", "Civil Engineering", "Political Science",
    "Philosophy", "Linguistics", "Statistics", "Molecular Biology", "Art History", "Geology",
]
# Company -> headquarters city (the company_city fact).
COMPANIES = [
    ("Digital Dynamics", "San Jose, California"), ("Blue Harbor Shipping", "Rotterdam, Netherlands"),
    ("Northwind Energy", "Calgary, Canada"), ("Apex Robotics", "Pittsburgh, Pennsylvania"),
    ("Silver Leaf Foods", "Milan, Italy"), ("Quantum Pharma", "Basel, Switzerland"),
    ("Redwood Analytics", "Portland, Oregon"), ("Crescent Media", "Dubai, United Arab Emirates"),
    ("Ironbridge Capital", "London, England"), ("Sunpeak Solar", "Phoenix, Arizona"),
    ("Aurora Airlines", "Reykjavik, Iceland"), ("Greenfield Motors", "Detroit, Michigan"),
    ("Coral Telecom", "Singapore"), ("Summit Health", "Minneapolis, Minnesota"),
    ("Falcon Aerospace", "Toulouse, France"), ("Maple Software", "Vancouver, Canada"),
    ("Orchid Biotech", "San Diego, California"), ("Granite Construction Group", "Sydney, Australia"),
    ("Lotus Textiles", "Bangalore, India"), ("Harbor Bank", "Hamburg, Germany"),
]
