"""The graded evaluation set: queries, candidate documents and graded relevance.

Written for this project. Grades: 3 answers the query, 2 is clearly relevant,
1 is on the topic without answering, 0 is unrelated. Three groups of cases:

* ``paraphrase``: the relevant documents say it in other words than the query;
* ``lexical-trap``: irrelevant documents share the query's words (often
  several of them), relevant ones mostly do not;
* ``long-document``: candidates of 300-500 words where the answer sits in one
  paragraph far past the model's 256-token window, beside long documents that
  never answer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    """One query and its graded candidates."""

    id: str
    group: str
    query: str
    documents: tuple[tuple[str, int], ...]
    """(text, grade) pairs."""


_Row = tuple[str, *tuple[tuple[str, int], ...]]
"""A query, then its (text, grade) candidates."""


def _case(group: str, number: int, query: str, *documents: tuple[str, int]) -> Case:
    return Case(f"{group}-{number:02d}", group, query, tuple(documents))


_PARAPHRASE: list[_Row] = [
    (
        "how do I make my car use less fuel",
        ("Driving at a steady speed and keeping tyres inflated improves a vehicle's mileage.", 3),
        ("Removing roof racks reduces drag, so an automobile burns less petrol.", 3),
        ("The history of the internal combustion engine begins in the 19th century.", 1),
        ("Cats sleep for up to sixteen hours a day.", 0),
        ("Electric bicycles are popular in Dutch cities.", 0),
    ),
    (
        "ways to fall asleep faster",
        ("Keeping the bedroom dark and cool helps people drift off more quickly.", 3),
        ("Avoiding screens for an hour before bed shortens the time it takes to nod off.", 3),
        ("Insomnia affects roughly one in ten adults.", 1),
        ("The stock exchange opens at half past nine.", 0),
        ("Bake the bread until the crust is golden.", 0),
    ),
    (
        "symptoms of dehydration",
        ("Not drinking enough water can cause dizziness, a dry mouth and dark urine.", 3),
        ("Feeling thirsty, tired and headachy are early signs the body lacks fluids.", 3),
        ("Athletes should drink before, during and after exercise.", 1),
        ("The river burst its banks after heavy rain.", 0),
        ("Tax returns are due at the end of January.", 0),
    ),
    (
        "cheap ways to heat a house in winter",
        ("Sealing draughts around windows keeps warm air in without raising the bill.", 3),
        ("Thick curtains and rugs are low-cost insulation for a chilly home.", 3),
        ("Heat pumps move thermal energy from outside air into a building.", 2),
        ("Summer heatwaves are getting longer in southern Europe.", 0),
        ("The orchestra tuned their instruments before the concert.", 0),
    ),
    (
        "how to learn a foreign language quickly",
        ("Speaking with native speakers every day speeds up picking up a new tongue.", 3),
        ("Spaced-repetition flashcards help students memorise vocabulary of another language.", 3),
        ("Linguists classify roughly seven thousand living languages.", 1),
        ("The recipe calls for two cups of flour.", 0),
        ("Our flight was delayed by fog.", 0),
    ),
    (
        "what causes earthquakes",
        ("Tremors happen when tectonic plates slip suddenly along a fault.", 3),
        ("Stress builds in the crust until rocks break and release seismic energy.", 3),
        ("Seismographs record ground motion at monitoring stations.", 1),
        ("A good espresso needs finely ground coffee.", 0),
        ("The football season starts in August.", 0),
    ),
    (
        "my laptop battery drains too fast",
        ("Lowering screen brightness extends how long a notebook runs unplugged.", 3),
        ("Background apps can exhaust a portable computer's charge within hours.", 3),
        ("Lithium-ion cells were commercialised in 1991.", 1),
        ("Tulips bloom in spring.", 0),
        ("The museum is closed on Mondays.", 0),
    ),
    (
        "how to reduce stress at work",
        ("Taking short breaks and setting clear priorities eases pressure in the office.", 3),
        ("Talking to a manager about workload can relieve job-related anxiety.", 3),
        ("Chronic stress raises cortisol levels.", 2),
        ("The bridge was painted red in 1937.", 0),
        ("Penguins live in the southern hemisphere.", 0),
    ),
    (
        "why is the sky blue",
        ("Air molecules scatter short wavelengths of sunlight more than long ones.", 3),
        ("Rayleigh scattering sends more violet and blue light toward our eyes.", 3),
        ("Sunsets look red because light travels through more atmosphere.", 2),
        ("Blue cheese gets its veins from mould.", 0),
        ("The bank raised interest rates.", 0),
    ),
    (
        "best way to store fresh herbs",
        ("Wrap parsley and coriander in a damp paper towel and keep them in the fridge.", 3),
        ("Basil lasts longer standing in a glass of water on the counter.", 3),
        ("Herbs have been used in medicine for millennia.", 1),
        ("The train to Berlin leaves at noon.", 0),
        ("Install the update and restart the computer.", 0),
    ),
    (
        "how do vaccines protect you",
        ("Immunisation trains the immune system to recognise a pathogen before infection.", 3),
        ("A jab exposes the body to a harmless piece of a virus so antibodies form.", 3),
        ("Edward Jenner tested the smallpox inoculation in 1796.", 1),
        ("The car needs new brake pads.", 0),
        ("Volcanoes release sulphur dioxide.", 0),
    ),
    (
        "signs a dog is unhappy",
        ("A pet hound that hides, stops eating or licks its paws constantly may be distressed.", 3),
        ("Tucked tails and flattened ears show that a canine feels anxious.", 3),
        ("Dogs were domesticated from wolves.", 1),
        ("The printer is out of toner.", 0),
        ("Mortgage rates fell last quarter.", 0),
    ),
    (
        "how to get rid of a cold faster",
        ("Rest, fluids and warm drinks help the body recover from a common viral infection.", 3),
        ("Zinc lozenges may shorten a runny-nose illness by a day or two.", 3),
        ("Antibiotics do not work against viruses.", 2),
        ("The freezer keeps food at minus eighteen degrees.", 0),
        ("Chess openings have names such as the Sicilian.", 0),
    ),
    (
        "money saving tips for students",
        ("Cooking at home instead of eating out keeps a university budget under control.", 3),
        ("Many shops give discounts to people who show a student card.", 3),
        ("Tuition fees vary widely between countries.", 1),
        ("The hurricane made landfall on Tuesday.", 0),
        ("Oak trees can live for centuries.", 0),
    ),
    (
        "how plants make food",
        ("Photosynthesis turns sunlight, water and carbon dioxide into sugar inside leaves.", 3),
        ("Chlorophyll captures light energy that green plants use to build glucose.", 3),
        ("Fertiliser adds nitrogen to the soil.", 1),
        ("The restaurant serves food until midnight.", 0),
        ("Make sure your passport is valid.", 0),
    ),
    (
        "what to do if someone is choking",
        (
            "Give up to five sharp back blows between the shoulder blades, then abdominal thrusts.",
            3,
        ),
        ("The Heimlich manoeuvre can dislodge an object blocking a person's airway.", 3),
        ("First aid courses last one or two days.", 1),
        ("The novel won a literary prize.", 0),
        ("Solar panels convert light into electricity.", 0),
    ),
    (
        "programming language for data analysis",
        ("Python with pandas is widely used to clean and explore tabular datasets.", 3),
        ("R was designed by statisticians for statistical computing and graphics.", 3),
        ("Assembly gives direct control over processor registers.", 1),
        ("The bakery sells fresh croissants.", 0),
        ("Mount Everest is 8,849 metres high.", 0),
    ),
    (
        "how to speed up a slow website",
        ("Compressing images and caching static assets cut page load times.", 3),
        ("A content delivery network serves files from servers near the visitor.", 3),
        ("HTML was invented at CERN.", 1),
        ("Snails move very slowly.", 0),
        ("The choir rehearses on Thursdays.", 0),
    ),
    (
        "what is inflation",
        ("A general rise in prices means each unit of currency buys fewer goods.", 3),
        ("When the cost of living climbs, purchasing power falls.", 3),
        ("Central banks set interest rates.", 2),
        ("Inflate the tyres to the recommended pressure.", 0),
        ("The balloon floated over the hills.", 0),
    ),
    (
        "treatment for a sprained ankle",
        ("Rest, ice, compression and elevation reduce swelling after twisting a joint.", 3),
        ("A strapped foot kept raised heals faster after a ligament injury.", 3),
        ("Ankles contain the talus bone.", 1),
        ("The election results were announced.", 0),
        ("Whales communicate with songs.", 0),
    ),
    (
        "how do airplanes stay in the air",
        ("Wings are shaped so that air pressure beneath them exceeds the pressure above.", 3),
        ("Lift generated by moving air over the wings balances an aircraft's weight.", 3),
        ("The Wright brothers flew at Kitty Hawk in 1903.", 1),
        ("Stay indoors during the storm.", 0),
        ("The soup needs more salt.", 0),
    ),
    (
        "how to write a good CV",
        ("Keep a résumé to two pages and lead with achievements, not duties.", 3),
        ("Tailor the curriculum vitae to each job advert's requirements.", 3),
        ("Recruiters receive hundreds of applications.", 1),
        ("The good weather continued all week.", 0),
        ("Write the date at the top of the letter to your grandmother.", 0),
    ),
    (
        "risks of smoking",
        ("Tobacco use greatly increases the chance of lung cancer and heart disease.", 3),
        ("Cigarettes damage the blood vessels and shorten life expectancy.", 3),
        ("Nicotine patches help people quit.", 2),
        ("Smoked salmon is served with cream cheese.", 0),
        ("The chimney needs sweeping.", 0),
    ),
    (
        "how to keep bread fresh longer",
        ("Store a loaf in a cloth bag at room temperature, or freeze slices for later.", 3),
        ("Refrigerating baked goods makes them go stale faster.", 2),
        ("Sourdough uses wild yeast.", 1),
        ("Fresh elections were called.", 0),
        ("The museum keeps its collection in storage.", 0),
    ),
    (
        "which planet is closest to the sun",
        ("Mercury orbits nearer to our star than any other world in the solar system.", 3),
        ("Venus is the second planet and the hottest.", 1),
        ("The sun rises in the east.", 0),
        ("Close the door when you leave.", 0),
        ("Jupiter has dozens of moons.", 1),
    ),
]

_TRAPS: list[_Row] = [
    (
        "python snake habitat",
        ("Pythons live in tropical forests and grasslands of Africa and Asia.", 3),
        ("Reticulated pythons often rest near rivers and swamps.", 3),
        ("Python is a programming language; install it from the official website.", 0),
        ("The python package index hosts libraries for every habitat of software.", 0),
        ("Snake plants tolerate low light indoors.", 0),
    ),
    (
        "apple nutrition facts",
        ("A medium apple has about 95 calories and four grams of fibre.", 3),
        ("The fruit is rich in vitamin C and antioxidants.", 2),
        ("Apple released new facts about iPhone sales figures.", 0),
        ("Apple's nutrition app tracks calories on the watch.", 0),
        ("Pears ripen after picking.", 1),
    ),
    (
        "bank of a river erosion",
        ("Fast water wears away soil on the outer curve of a stream's side.", 3),
        ("Tree roots hold riverside soil together and slow its loss.", 3),
        ("The bank raised its erosion of customer trust by adding fees.", 0),
        ("Open a bank account by the river branch office.", 0),
        ("Coastal cliffs retreat after storms.", 1),
    ),
    (
        "java coffee origin",
        (
            "The island of Java has grown coffee since the Dutch brought plants in 1696.",
            3,
        ),
        ("Beans from the island became so famous that 'java' became slang for a cup.", 3),
        ("Java is an object-oriented language; coffee cup logo, origin at Sun Microsystems.", 0),
        ("Install the Java runtime before running the coffee shop app.", 0),
        ("Tea originated in China.", 1),
    ),
    (
        "mouse trap for a house",
        ("Snap traps baited with peanut butter catch rodents in kitchens.", 3),
        ("Seal gaps under doors to keep small rodents out of a home.", 3),
        ("A wireless mouse for your house computer trap-free setup.", 0),
        ("The house band played Mouse Trap, a new song.", 0),
        ("Rats carry diseases.", 1),
    ),
    (
        "jaguar speed",
        ("The big cat can sprint at about 80 kilometres per hour over short distances.", 3),
        ("These South American predators ambush prey rather than chase it for long.", 2),
        ("Jaguar's new electric car has a top speed of 200 km/h.", 0),
        ("Jaguar speed dealers offer test drives.", 0),
        ("Cheetahs are the fastest land animals.", 1),
    ),
    (
        "how to fix a leaking tap",
        ("Replace the worn washer inside the faucet after turning off the water supply.", 3),
        ("A dripping spigot usually needs a new O-ring or cartridge.", 3),
        ("Tap the screen to fix the leaking memory in the app.", 0),
        ("How to fix a leak of confidential documents to the press.", 0),
        ("Plumbers charge by the hour.", 1),
    ),
    (
        "crane bird migration",
        ("Common cranes fly from Scandinavia to Spain each autumn.", 3),
        ("Large flocks of these wading birds rest at wetlands on their journey south.", 3),
        ("The construction crane lifted steel beams; a bird's nest sat on top.", 0),
        ("Crane operators need a licence for migration of heavy loads.", 0),
        ("Swallows also migrate to Africa.", 1),
    ),
    (
        "mercury poisoning symptoms",
        ("Exposure to the toxic metal causes tremors, memory loss and numbness.", 3),
        ("Eating fish high in methylmercury can damage the nervous system.", 3),
        ("Mercury is the closest planet to the sun; its symptoms of heat are extreme.", 0),
        ("Freddie Mercury sang with Queen.", 0),
        ("Lead in old paint is also dangerous.", 1),
    ),
    (
        "bass fishing tips",
        ("Cast near weed beds at dawn, when largemouth feed most actively.", 3),
        ("Soft plastic worms are a reliable lure for catching these freshwater fish.", 3),
        ("Tips for playing bass guitar: practise scales daily.", 0),
        ("Turn up the bass on your speakers for fishing videos.", 0),
        ("Trout prefer cold water.", 1),
    ),
    (
        "cell phone battery",
        ("A smartphone's lithium-ion pack degrades after several hundred charge cycles.", 3),
        ("Avoid leaving a mobile fully charged in a hot car.", 2),
        ("The prison cell had no phone and the battery of guards stood outside.", 0),
        ("A battery of tests showed the cell was healthy.", 0),
        ("Phones switched from buttons to touchscreens.", 1),
    ),
    (
        "pitch a tent",
        ("Clear the ground of stones, lay the groundsheet and stake the corners first.", 3),
        ("Put the poles through the sleeves, raise the shelter and tighten the guy lines.", 3),
        ("Pitch your startup to investors in a big tent event.", 0),
        ("The baseball pitch was thrown near the tent.", 0),
        ("Camping is popular in national parks.", 1),
    ),
    (
        "seal population decline",
        ("Numbers of harbour seals have fallen in the North Sea since 2000.", 3),
        ("Fewer of these marine mammals survive due to disease and lack of fish.", 3),
        ("Seal the envelope before the population census deadline.", 0),
        ("Apply sealant to stop the decline of your bathroom tiles.", 0),
        ("Walruses live in the Arctic.", 1),
    ),
    (
        "bat species in europe",
        ("The common pipistrelle is among the most widespread bats across Europe.", 3),
        ("More than forty kinds of these flying mammals live on the continent.", 3),
        ("Cricket bat species of willow are grown in England, Europe's best.", 0),
        ("Baseball bat sales in Europe rose.", 0),
        ("Owls hunt at night too.", 1),
    ),
    (
        "fan noise",
        ("A rattling cooling fan usually has dust on its blades or a worn bearing.", 3),
        ("Clean the computer's ventilation to quieten a loud whirring.", 3),
        ("Football fans made noise all night in the square.", 0),
        ("A fan club complained about noise from the stadium.", 0),
        ("Air conditioners use compressors.", 1),
    ),
    (
        "spring water quality",
        ("Natural springs can carry bacteria, so test the source before drinking.", 3),
        ("Groundwater emerging from rock is often rich in minerals.", 2),
        ("Spring cleaning improves the quality of your water heater's look.", 0),
        ("In spring, the quality of the garden improves with water.", 0),
        ("Tap water is treated with chlorine.", 1),
    ),
    (
        "match for fire",
        ("Strike the match head on the box's rough side to light a flame.", 3),
        ("Safety matches ignite only on the striking surface.", 3),
        ("The fire brigade won the football match.", 0),
        ("Match the fire alarm model to your dating profile.", 0),
        ("Lighters use butane.", 2),
    ),
    (
        "turkey travel guide",
        ("Istanbul's Hagia Sophia and Cappadocia's balloons are highlights of the country.", 3),
        ("Visitors to the Anatolian coast can explore Ephesus and turquoise beaches.", 3),
        ("A guide to roasting turkey for Thanksgiving travel.", 0),
        ("Turkey sandwiches are popular travel snacks.", 0),
        ("Greece has many islands.", 1),
    ),
    (
        "keyboard for piano practice",
        ("A weighted 88-key digital instrument feels closest to an acoustic when practising.", 3),
        (
            "Beginners can learn scales on a portable electric keyboard with touch-sensitive keys.",
            3,
        ),
        ("A mechanical keyboard for typing practice speeds up coding.", 0),
        ("Keyboard shortcuts for practice in the piano app's menu.", 1),
        ("Violins have four strings.", 0),
    ),
    (
        "chip shortage cars",
        ("Automakers halted assembly lines because semiconductors were scarce.", 3),
        ("A lack of microcontrollers delayed vehicle deliveries in 2021.", 3),
        ("Potato chip shortage hits stores, cars queue.", 0),
        ("Poker chip shortage at the car racing casino.", 0),
        ("Car sales fell during the recession.", 1),
    ),
    (
        "virus on my computer",
        ("Antivirus software can scan for and remove malware from a PC.", 3),
        ("Ransomware encrypts files and demands payment.", 2),
        ("Flu virus spreads on computer keyboards in offices.", 1),
        ("The virus outbreak closed schools; my computer class was cancelled.", 0),
        ("Back up important documents regularly.", 1),
    ),
    (
        "light exercise for elderly",
        ("Gentle walking and chair yoga keep older adults mobile.", 3),
        ("Seniors benefit from water aerobics, which is easy on the joints.", 3),
        ("Light bulb exercise: elderly lamp designs.", 0),
        ("The speed of light is an exercise in physics.", 0),
        ("Muscle mass declines with age.", 2),
    ),
    (
        "mole removal",
        ("A dermatologist can cut out a suspicious skin growth under local anaesthetic.", 3),
        ("Laser treatment removes small benign spots on the skin.", 3),
        ("Getting rid of moles digging up the garden lawn.", 0),
        ("A mole of carbon has 6.02e23 atoms; removal of water is chemistry.", 0),
        ("Sunscreen prevents skin cancer.", 1),
    ),
    (
        "tank capacity fish",
        ("Allow roughly one litre of aquarium water per centimetre of fish.", 3),
        ("Overstocking a fish bowl causes ammonia to build up.", 3),
        ("The army tank's fuel capacity is 1,900 litres.", 0),
        ("Septic tank capacity depends on household size.", 0),
        ("Goldfish can live for twenty years.", 1),
    ),
    (
        "deep learning frameworks",
        ("PyTorch is an open-source library for training neural networks.", 3),
        ("TensorFlow provides tools for building neural networks.", 3),
        ("Deep sea learning centre opens its framework exhibition.", 0),
        ("Learn to make delicious pasta at home.", 0),
        ("Keras offers a high-level API on top of other libraries.", 2),
    ),
]

_FILLER = [
    "The committee met on Tuesday to review the annual budget. Members discussed "
    "staffing, the cost of renovating the reception area and a proposal to move the "
    "archive to a cheaper building outside town. No decision was reached, and the "
    "chair asked for revised figures before the next meeting in the spring.",
    "Our hiking route climbed through pine forest for three hours before reaching the "
    "ridge. The weather held, and from the top we could see two lakes and the "
    "village where we had started. The descent was steeper than expected, and "
    "several of us wished we had brought walking poles.",
    "The library's new opening hours start next month. It will open at nine on "
    "weekdays and ten on Saturdays, and it will stay closed on Sundays. Members can "
    "still return books through the slot by the main door at any time, and the "
    "online catalogue remains available around the clock.",
    "The local football club finished third this season, its best result in a "
    "decade. The coach praised the young players who came through the academy and "
    "said the priority for the summer is keeping the squad together rather than "
    "spending money on expensive signings.",
    "Planning a wedding involves many small decisions: the venue, the guest list, "
    "the flowers, the music and the menu. Couples often underestimate how long it "
    "takes to collect replies from guests, so sending invitations early leaves more "
    "room to arrange seating and catering.",
    "The museum's winter exhibition brings together paintings of harbours from four "
    "centuries. Curators borrowed works from private collections, and the catalogue "
    "includes essays on how ports changed as sail gave way to steam and then to "
    "container shipping.",
    "Renovating an old kitchen usually starts with the plumbing and wiring, long "
    "before anyone chooses tiles. Builders recommend checking the floor for damp, "
    "planning where sockets will go and ordering cabinets early, because delivery "
    "times can stretch to several weeks.",
    "The orchestra's spring season opens with a symphony by Brahms, followed by a "
    "new piece commissioned from a young composer. Tickets go on sale next week, "
    "and students can buy standing places on the day of each concert at a reduced "
    "price.",
]


def _paragraphs(fillers: tuple[int, ...], count: int) -> list[str]:
    # The named paragraphs first, then the others in order, `count` in all.
    order = [*fillers, *(i for i in range(len(_FILLER)) if i not in fillers)]
    return [_FILLER[i] for i in order[:count]]


def _long(answer: str, *fillers: int) -> str:
    # The answer goes last, after about 300 words of unrelated text, so that an
    # engine reading only the first 256-token window never sees it.
    return "\n\n".join([*_paragraphs(fillers, 6), answer])


def _noise(*fillers: int) -> str:
    return "\n\n".join(_paragraphs(fillers, 7))


_LONG: list[_Row] = [
    (
        "how to repair a bicycle puncture",
        (
            _long(
                "To mend a flat bicycle tyre, lever the tyre off the rim, pull out the "
                "inner tube, find the hole by listening for air or dipping it in water, "
                "roughen the area, apply glue and press a patch on firmly.",
                0,
                1,
                2,
            ),
            3,
        ),
        (_noise(3, 4, 5, 6), 0),
        ("Cycling to work is good for your health and saves money.", 1),
        (_noise(7, 0, 2, 4), 0),
    ),
    (
        "what is the boiling point of water at high altitude",
        (
            _long(
                "At high elevation the air pressure is lower, so water boils below "
                "100 degrees Celsius: at around 3,000 metres it boils near 90 degrees, "
                "which is why cooking pasta takes longer in the mountains.",
                1,
                3,
                5,
            ),
            3,
        ),
        (_noise(0, 2, 4, 6), 0),
        ("Water freezes at zero degrees Celsius at sea level.", 1),
        (_noise(5, 6, 7, 1), 0),
    ),
    (
        "how to treat a bee sting",
        (
            _long(
                "After an insect sting, scrape the stinger out with a fingernail or "
                "card, wash the skin with soap and water, and hold a cold compress on "
                "the swelling; seek help at once if breathing becomes difficult.",
                2,
                4,
                6,
            ),
            3,
        ),
        (_noise(1, 3, 5, 7), 0),
        ("Honeybees communicate the location of flowers by dancing.", 1),
        (_noise(0, 4, 6, 2), 0),
    ),
    (
        "why do leaves change colour in autumn",
        (
            _long(
                "As days shorten in the fall, trees stop producing chlorophyll; the "
                "green fades and yellow and orange pigments that were there all along "
                "show through, while some species make red anthocyanins.",
                3,
                5,
                7,
            ),
            3,
        ),
        (_noise(0, 1, 2, 4), 0),
        ("Evergreen conifers keep their needles all year.", 1),
        (_noise(6, 7, 3, 5), 0),
    ),
    (
        "how to lower blood pressure naturally",
        (
            _long(
                "Cutting back on salt, exercising for thirty minutes most days, losing "
                "excess weight and drinking less alcohol can all bring hypertension "
                "down without medication.",
                4,
                6,
                0,
            ),
            3,
        ),
        (_noise(1, 2, 3, 5), 0),
        ("Doctors measure it with a cuff around the upper arm.", 1),
        (_noise(7, 0, 1, 6), 0),
    ),
    (
        "how do I back up my phone photos",
        (
            _long(
                "Turn on automatic cloud sync in the gallery settings, or connect the "
                "handset to a computer with a cable and copy the camera folder to an "
                "external drive, so your pictures survive if the device is lost.",
                5,
                7,
                1,
            ),
            3,
        ),
        (_noise(0, 2, 4, 6), 0),
        ("Phone cameras now have several lenses.", 1),
        (_noise(3, 5, 2, 0), 0),
    ),
    (
        "what causes tides",
        (
            _long(
                "The moon's gravity pulls the oceans into a bulge on the side of Earth "
                "facing it and on the opposite side, and as the planet rotates each "
                "coast passes through two high and two low waters a day.",
                6,
                0,
                2,
            ),
            3,
        ),
        (_noise(1, 3, 5, 7), 0),
        ("Surfers check forecasts for wave height.", 1),
        (_noise(4, 6, 0, 3), 0),
    ),
    (
        "how to remove a red wine stain",
        (
            _long(
                "Blot the spill at once, pour cold water or soda water over it, cover "
                "it with salt or baking soda to draw the colour out, then wash the "
                "fabric in cold water; hot water sets the mark.",
                7,
                1,
                3,
            ),
            3,
        ),
        (_noise(0, 2, 4, 6), 0),
        ("Red wine is made from dark-skinned grapes.", 1),
        (_noise(5, 7, 1, 4), 0),
    ),
    (
        "how long should I boil an egg",
        (
            _long(
                "For a soft yolk, lower the egg into boiling water for six minutes; "
                "for a firm one, nine to ten minutes, then cool it under cold water so "
                "the shell peels easily.",
                0,
                3,
                6,
            ),
            3,
        ),
        (_noise(1, 2, 5, 7), 0),
        ("Chickens lay about one egg a day.", 1),
        (_noise(4, 6, 3, 0), 0),
    ),
    (
        "how to improve wifi signal at home",
        (
            _long(
                "Place the router high up in the middle of the house, away from thick "
                "walls and microwaves, switch to a less crowded channel, and add a "
                "mesh node for rooms far from it.",
                2,
                5,
                7,
            ),
            3,
        ),
        (_noise(0, 1, 3, 6), 0),
        ("Wireless networking standards are set by the IEEE.", 1),
        (_noise(4, 2, 7, 5), 0),
    ),
    (
        "symptoms of iron deficiency",
        (
            _long(
                "Low iron shows as tiredness, pale skin, shortness of breath, brittle "
                "nails and cold hands; a blood test for ferritin confirms anaemia.",
                1,
                4,
                7,
            ),
            3,
        ),
        (_noise(0, 2, 3, 5), 0),
        ("Spinach and lentils contain iron.", 2),
        (_noise(6, 1, 4, 0), 0),
    ),
    (
        "how to stop a dog barking at night",
        (
            _long(
                "Give the dog plenty of exercise in the evening, cover windows that "
                "show passers-by, reward quiet behaviour, and never shout back, which "
                "the animal hears as joining in.",
                3,
                6,
                2,
            ),
            3,
        ),
        (_noise(0, 1, 5, 7), 0),
        ("Some breeds were bred as watchdogs.", 1),
        (_noise(4, 3, 6, 1), 0),
    ),
]


def cases() -> list[Case]:
    """Every case, paraphrase first, then lexical traps, then long documents."""
    groups = [("paraphrase", _PARAPHRASE), ("lexical-trap", _TRAPS), ("long-document", _LONG)]
    return [
        _case(group, number, row[0], *row[1:])
        for group, rows in groups
        for number, row in enumerate(rows, 1)
    ]
