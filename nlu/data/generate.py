"""Write `nlu.yml` (training) and `test/nlu.yml` + `test/facts.yml` (held out) from one seeded source.

Run `uv run python -m nlu.data.generate` after editing the phrase lists below; the YAML it writes is
committed and is what both backends train from. Every phrase list is split, by a fixed seed, into a
training part and a held-out part, so the test split contains phrasings training never saw (not
only new combinations of seen ones). Names are synthetic.

Entity names: hold_type, location, restriction, equipment (values as in shared/DESIGN.md),
medication (value `prn`), injury (value `injury`; whose injury is read from the context),
pain (value `pain`) and punishment (value `punishment`).
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SEED = 20240611
TEST_SHARE = 0.2

# ---------------------------------------------------------------- lexicon (synonyms and lookups)
# canonical value -> surface forms (lower case). The first form is the plain canonical word.
LEXICON: dict[str, dict[str, list[str]]] = {
    "hold_type": {
        "prone": ["prone", "prone hold", "prone restraint", "prone position", "face down",
                  "face-down", "facedown", "on her front", "on his front", "on their front",
                  "on her stomach", "on his stomach", "on her tummy", "on his tummy",
                  "belly down", "chest down", "lying face down", "held face down"],
        "supine": ["supine", "supine hold", "supine position", "on her back", "on his back",
                   "on their back", "face up", "face-up"],
        "ground": ["to the floor", "on the floor", "to the ground", "on the ground",
                   "floor hold", "ground hold", "floor restraint", "went to ground",
                   "went to the floor", "taken down", "take down", "takedown", "took her down",
                   "took him down", "brought her to the floor", "brought him to the floor",
                   "ground recovery", "floor recovery", "take him down",
                   "take her down"],
        "seated": ["seated", "seated hold", "seated position", "sitting hold", "sitting position",
                   "sat hold", "held seated", "held sitting", "seated restraint",
                   "held her in a chair", "held him in a chair", "seated on the sofa"],
        "standing": ["standing hold", "standing position", "held standing", "standing restraint",
                     "single elbow", "double elbow", "figure of four", "t-wrap", "standing wrap",
                     "wrap hold"],
        "kneeling": ["kneeling", "kneeling hold", "kneeling position", "on her knees",
                     "on his knees", "kneeling restraint"],
        "escort": ["escort", "escorted", "escorting", "guided", "guide", "guiding",
                   "moved by the arms", "by the arms", "by the arm", "held by the arms",
                   "walked her", "walked him", "led her", "led him", "friendly hold",
                   "caring c", "caring c guide", "assisted to walk", "steered her",
                   "steered him", "shepherded"],
        "double_basket": ["double basket", "double basket hold", "basket hold", "basket"],
        "seated_double_embrace": ["seated double embrace", "double embrace", "sde"],
        "nose_distraction": ["nose distraction", "nose distraction technique",
                             "pressure under his nose", "pressure under her nose",
                             "under the nose"],
    },
    "location": {
        "bedroom": ["bedroom", "her room", "his room", "their room", "own room", "bed room",
                    "her bedroom", "his bedroom", "bedrooom", "dorm"],
        "bed": ["bed", "on the bed", "on her bed", "on his bed", "in bed"],
        "bathroom": ["bathroom", "toilet", "toilets", "loo", "shower", "shower room", "wc",
                     "bath", "washroom"],
        "communal": ["communal", "lounge", "living room", "kitchen", "dining room",
                     "dining area", "communal area", "sitting room", "tv room", "games room",
                     "dinner hall", "canteen", "lunch hall", "conservatory", "front room",
                     "common room"],
        "corridor": ["corridor", "hallway", "hall way", "landing", "stairs", "staircase",
                     "stairwell", "hall", "corrider", "entrance", "reception"],
        "classroom": ["classroom", "class room", "in class", "lesson", "art room", "science lab",
                      "classrom", "music room", "ict suite", "playroom"],
        "outdoors": ["outdoors", "outside", "garden", "playground", "yard", "park", "street",
                     "road", "field", "car park", "grounds", "driveway", "pavement", "woods",
                     "front drive", "back garden"],
        "vehicle": ["vehicle", "car", "minibus", "mini bus", "van", "taxi", "bus",
                    "people carrier", "back seat", "school bus"],
    },
    "restriction": {
        "locked_door": ["locked door", "locked the door", "door locked", "held the door",
                        "held the door shut", "door held shut", "door held closed",
                        "kept the door shut", "held the door closed", "locked in", "door held",
                        "locked her in", "locked him in", "locked them in", "door was locked"],
        "blocked_exit": ["blocked exit", "blocked the exit", "blocked the door",
                         "blocked the doorway", "blocking the door", "blocking the exit",
                         "stood in the doorway", "stood in front of the door", "blocked her way",
                         "blocked his way", "door blocked", "blocked her exit",
                         "blocked his exit", "blocked the way out", "block the door",
                         "block the exit"],
        "isolation": ["isolation", "seclusion", "secluded", "isolated", "isolation room",
                      "time out room", "time-out room", "timeout room", "time out", "timeout",
                      "chill out room", "chill-out room", "chillout room", "calm room",
                      "quiet room", "cool down room", "cool-down room", "padded room",
                      "safe room", "left alone in a room"],
        "single_separation": ["single separation", "separation", "separated", "kept apart",
                              "single sep", "separated from the group",
                              "separated from the others"],
        "managing_away": ["managing away", "managed away", "managed her away",
                          "managed him away", "manage away"],
        "mobility_aid_removed": ["mobility aid removed", "wheelchair switched off",
                                 "switched off her wheelchair", "switched off his wheelchair",
                                 "turned off her wheelchair", "turned off his wheelchair",
                                 "power chair switched off", "took her walking frame",
                                 "took his walking frame", "removed her walking frame",
                                 "removed his walking frame", "took away his crutches",
                                 "took away her crutches", "brakes on her wheelchair",
                                 "brakes on his wheelchair"],
    },
    "equipment": {
        "harness": ["harness", "body harness", "car harness", "safety harness"],
        "seatbelt": ["seatbelt", "seat belt", "lap belt", "seatbelt guard", "buckle guard",
                     "belt guard", "seat-belt"],
        "wheelchair": ["wheelchair", "wheel chair", "wheelchair straps", "chair straps",
                       "lap strap"],
        "reins": ["reins", "walking reins", "wrist strap", "wrist link", "wrist reins"],
        "safe_space_bed": ["safe space bed", "safe-space bed", "safespace bed", "enclosed bed",
                           "cubby bed", "tent bed"],
        "high_bed_sides": ["high bed sides", "bed sides", "cot sides", "bed rails", "bedrails",
                           "side rails", "high sides", "raised bed sides"],
        "high_door_handle": ["high door handle", "high door handles", "high handle",
                             "high handles", "raised door handle", "raised door handles",
                             "door handles out of reach"],
    },
    "medication": {
        "prn": ["prn", "p.r.n", "p.r.n.", "prn medication", "prn meds", "as required medication",
                "as-required medication", "as required meds", "as needed medication",
                "medication", "meds", "medicine", "lorazepam", "promethazine", "diazepam",
                "midazolam", "sedation", "sedated", "chemical restraint", "rescue medication",
                "calming medication", "prm"],
    },
    "injury": {
        "injury": ["injury", "injuries", "injured", "injurys", "hurt", "bruise", "bruises",
                   "bruised", "bruising", "graze", "grazes", "grazed", "scratch", "scratches",
                   "scratched", "cut", "cuts", "bleeding", "bled", "nosebleed", "nose bleed",
                   "carpet burn", "carpet burns", "friction burn", "rug burn", "red marks",
                   "red mark", "marks", "redness", "swelling", "swollen", "sprain",
                   "sprained", "bump", "lump", "bitten", "bit me", "bite mark", "bite marks",
                   "first aid", "injurs"],
    },
    "pain": {
        "pain": ["pain", "painful", "pain compliance", "in pain", "caused pain", "causing pain",
                 "inflicted pain", "pain-based", "bent his fingers back", "bent her fingers back",
                 "bent his thumb back", "bent her thumb back", "thumb lock", "wrist lock",
                 "pain technique"],
    },
    "punishment": {
        "punishment": ["punishment", "punish", "punished", "punishing", "as a punishment",
                       "to teach him a lesson", "to teach her a lesson", "teach him a lesson",
                       "teach her a lesson", "as a sanction", "sanction", "payback"],
    },
}

NAMES = ["Dave", "Sam", "Priya", "Tom", "Leah", "Kofi", "Aisha", "Ben", "Chloe", "Mo", "Jo",
         "Ravi", "Ellie", "Gemma", "Marcus", "Niamh", "Dan", "Hannah", "Zainab", "Owen"]
CHILDREN = ["Jamie", "Alex", "Riley", "Kai", "Casey", "Jordan", "Ruby", "Leo", "Maya", "Tyler"]


def split(items: list[str], rng: random.Random) -> tuple[list[str], list[str]]:
    """A seeded train/test split of a phrase list (at least one phrase on each side)."""
    shuffled = list(items)
    rng.shuffle(shuffled)
    n_test = max(1, round(len(shuffled) * TEST_SHARE)) if len(shuffled) > 2 else 0
    return shuffled[n_test:], shuffled[:n_test] or shuffled[:1]


# ---------------------------------------------------------------- control intents
CONTROL: dict[str, list[str]] = {
    "affirm": [
        "yes", "yeah", "yep", "yup", "yes that's right", "correct", "that's correct", "right",
        "ok", "okay", "sure", "y", "ya", "yeah thats it", "spot on", "exactly", "that's it",
        "absolutely", "definitely", "yes please", "go ahead", "confirm", "looks good",
        "all correct", "aye", "👍", "yes it is", "thats right yes", "yess", "yea", "yh", "ye",
        "of course", "sounds right", "perfect", "i agree", "true", "that's accurate", "mhm",
        "yes that's all correct", "yeah that's fine", "yes thank you", "yes you can tell them",
        "yes i'm happy for you to tell the manager", "ok thats fine", "yep all good",
        "that is right", "correct yes", "yes correct", "yeah go on", "yes it was",
        "yes we did", "yeah she was", "yes he did", "yep that's what happened", "affirmative",
        "Yes.", "YES", "Yeah ok", "yeah spot on thanks", "yes thats correct",
        "that's all right", "all good", "looks right to me", "yes, that's everything",
        "yes i did", "yeah i have", "yes please do", "fine by me", "ok go ahead", "k",
        "yas", "yees", "yeah defo", "defo", "yup thats it", "that's spot on", "precisely",
        "yes definitely", "definitely yes", "yeah of course", "of course yes", "i agree yes",
        "agreed", "yes i agree", "yeah that's right", "yep correct", "correct thanks",
        "yeah true", "that's true", "yeah thats correct", "yes all of it", "yes to all",
        "right yes", "yes spot on", "yeah exactly", "yeah you've got it", "you got it",
        "that's what happened", "yes that's what happened", "sure thing", "yeah sure",
        "ok yes", "okay yes", "yes ok", "👍👍", "✅", "yes fine", "yep yep", "aye that's right",
        "yeh", "yah", "ya that's right", "yeah ya", "yes yes", "yup correct", "yeah correct",
        "confirmed", "affirmative yes", "that's correct yes", "yes that is correct",
        "absolutely yes", "yes absolutely", "yass", "yesss", "yeah yeah", "totally",
        "yes 100%", "def", "yeah deffo",
    ],
    "deny": [
        "no", "nope", "nah", "n", "not really", "no thanks", "that's wrong", "incorrect",
        "not right", "no it isn't", "that's not right", "no that's not correct", "wrong",
        "negative", "no way", "not quite", "no it was not", "👎", "none", "nothing", "nil",
        "no thank you", "no don't", "please don't", "i'd rather not", "no not at all",
        "nothing to add", "no, that's not what happened", "no she didn't", "no he didn't",
        "no we didn't", "no i haven't", "No.", "NO", "nah not really", "no not yet",
        "not at all", "no that's wrong", "no please don't tell them", "don't tell the manager",
        "that isn't right", "no that is incorrect", "nothing else", "no nothing",
        "none that i know of", "no none", "noo", "nopee", "no thankyou", "no ta",
        "definitely not", "certainly not", "no it wasn't", "nooo", "no no", "nah never",
        "no that's not true", "not true", "that's incorrect", "no, wrong", "nope not at all",
        "no he wasn't", "no she wasn't", "no none", "no, nothing", "❌", "no not that",
        "none at all", "nothing at all", "no it didn't", "nope, none", "nah nothing",
        "n no", "no n", "please don't tell anyone", "don't", "no don't tell them", "no need",
        "no, no injuries", "no prn", "none given", "nah no", "naw", "no sir",
        "no, that's not right at all", "absolutely not", "not really no", "not that i'm aware of",
        "no i didn't",
        "no, nothing else to add", "not this time", "never", "nah thats not it",
        "no that's not it", "that's not correct", "nein", "no not really tbh",
    ],
    "skip": [
        "skip", "skip this", "skip this question", "next", "next question", "pass",
        "can we skip this", "can i skip this one", "i'd rather not answer this",
        "move on", "leave it blank", "not applicable", "n/a", "na", "doesn't apply",
        "skip it", "skp", "skipp", "let's move on", "next one please", "can i leave this one",
        "i don't want to answer this one", "rather not say", "not relevant",
        "this doesn't apply to me", "skip please", "pass on this one", "can we move on",
        "next pls", "skip for now", "leave this one", "i'll leave that one", "next q",
        "skip that", "skip q", "skip this bit", "can we go to the next question",
        "move to the next one", "don't want to answer", "prefer not to answer",
        "prefer not to say", "not answering that", "ignore this one", "leave blank",
        "can i pass", "skip skip", "nxt", "let me skip this", "i want to skip",
        "this isn't relevant skip", "not applicable to this incident", "skip this one pls",
        "onto the next", "go to next", "jump to the next question", "i'll leave that",
        "leave that one", "rather not", "i'd prefer not to say", "not answering",
        "i won't answer that", "skip this q", "next please", "pass please", "just skip it",
        "can we leave this question", "miss this one out", "miss this out", "skip, not relevant",
        "don't want to say", "no comment", "i'll skip this", "not relevant to me",
        "n/a skip", "na skip", "n/a to this one", "not applicable here", "doesn't apply here",
    ],
    "go_back": [
        "back", "go back", "previous", "previous question", "undo", "i made a mistake",
        "go back i got that wrong", "can i change my last answer", "change my answer",
        "last question", "back please", "oops go back", "go back one", "i want to change that",
        "edit previous", "that was wrong let me redo it", "i pressed the wrong button",
        "bak", "gp back", "go back a step", "can we go back", "back one", "return to previous",
        "i need to change my previous answer", "wrong button", "i hit the wrong one",
        "let me change that answer", "take me back", "back a question",
        "can i redo the last one", "redo last question", "undo that", "go back pls",
        "previous one", "i want to go back", "go bak", "back up", "scroll back",
        "can i amend my last answer", "amend previous answer", "fix my last answer",
        "i typed the wrong thing", "oops wrong answer", "i meant the other one go back",
        "step back", "the one before", "back to the last question", "redo",
        "can i edit what i said before", "change the previous answer please",
        "i clicked wrong", "mistake, go back", "back!", "go back to the question before",
        "previous question please", "back to previous", "go back please", "can i go back",
        "i want to change my last answer", "change last answer", "undo last",
        "wrong answer", "that answer was wrong", "the last answer is wrong",
        "go back to the last one", "previous q",
    ],
    "pause": [
        "pause", "stop", "stop for now", "later", "i'll finish this later",
        "can we continue later", "need a break", "save and exit", "i have to go", "got to go",
        "gtg", "brb", "i'll come back to it", "carry on later", "not now", "can't do this now",
        "i'm busy", "on shift now will finish after", "resume later", "hold on", "wait",
        "give me a minute", "pause this", "pause please", "can we stop here",
        "i need to stop", "finish later", "i'll do the rest tomorrow", "save for later",
        "let me come back to this", "i've got to go", "gotta go", "call of duty sorry need to go",
        "someone needs me, back soon", "hang on", "one sec", "1 sec", "need to go",
        "can i finish this tomorrow", "i'll pick this up later", "pause the debrief",
        "stop now", "to be continued", "ill do it after my shift", "i'm needed on the floor",
        "paus", "puase", "stop please", "save it", "let's stop for now",
        "i'm going to have to come back to this", "i have to go and help a colleague",
        "can i do this later", "break please", "not a good time", "busy will come back",
        "i'll finish it at handover", "can i continue this later on", "be back soon",
        "back soon", "back in a bit", "i'll come back to this later", "come back to it later",
        "let me come back later", "continue later", "will finish later", "finish it later",
        "to be continued later", "stop here for now", "save my answers", "save and come back",
        "i'm busy will come back", "pause for now", "i have to pause", "need to pause",
        "someone needs me", "kids need me", "i'm being called", "later please",
        "i don't want to do this right now", "not right now", "not now please",
        "can we do this another time", "another time", "i can't do this right now",
        "g2g", "gtg sorry", "got to go sorry", "gotta go now", "hold on a sec", "hang on a minute",
        "wait a sec", "i'm needed, will come back", "needed elsewhere", "i'm on shift",
    ],
    "help": [
        "help", "what does this mean", "i don't understand", "what do you mean",
        "can you explain", "?", "huh", "what?", "confused", "what is prn",
        "what counts as a restrictive intervention", "how do i answer this",
        "what should i put", "explain please", "more info", "example?", "what's a seated hold",
        "help me", "i don't get it", "dont understand the question", "what is this asking",
        "help please", "what do i write here", "can you give an example", "??",
        "what does restrictive mean", "what is a prone hold", "what does least restrictive mean",
        "i'm confused", "explain", "what's this for", "why are you asking this",
        "what do you need from me", "not sure what you're asking", "wat", "wot",
        "what do you want me to say", "what kind of answer do you want",
        "what does de-escalation mean", "what is single separation", "what's managing away",
        "what is meant by trigger", "how much detail do you need", "halp", "hlep",
        "can you rephrase that", "say that again", "what?? i dont get it",
        "which one do i pick", "what does that question mean", "info", "?? what",
        "help with this question", "i need help with this question", "what does that mean",
        "what's that mean", "meaning?", "i don't understand the question",
        "what are you asking", "explain this question", "can you explain that",
        "help?", "what", "eh?", "sorry what?", "what do i put", "don't get it",
        "what's prone", "what does prone mean", "what's a basket hold", "what is a restraint",
        "what counts as an injury", "what is meant by prn", "eh", "wdym", "hm?", "?!",
    ],
    "unsure": [
        "i don't know", "dunno", "not sure", "idk", "can't remember", "i can't recall",
        "no idea", "unsure", "maybe", "not certain", "i'm not sure", "i wasn't there for that bit",
        "hard to say", "don't remember", "possibly", "couldn't say", "cant rember",
        "i dont know tbh", "dont know", "i really don't know", "no clue", "not a clue",
        "i can't be sure", "perhaps", "i think so but not sure", "possibly, not sure",
        "i'm unsure", "can't say", "i didn't see", "i didn't see that part", "unknown",
        "not 100% sure", "im not sure to be honest", "not sure tbh", "i honestly don't know",
        "dnt know", "dont no", "i forget", "forgot", "i can't remember exactly",
        "it's a blur", "it's all a bit of a blur", "might have been", "maybe not",
        "unsure sorry", "i wasn't in the room", "i only came in at the end",
        "no idea sorry", "i'm not certain", "not sure if it counts",
        "i don't know if that's right", "idk tbh", "dno", "hmm not sure", "i forgot",
        "can't remember sorry", "i don't remember", "perhaps not", "perhaps yes",
        "maybe yes maybe no", "possibly yes", "not sure really", "i'm not too sure",
        "don't know sorry", "unsure tbh", "i've forgotten", "i wouldn't know",
        "not sure, i didn't see", "i'm not sure about that", "dunno tbh", "dunno sorry",
        "i dunno", "i'm not sure i remember", "i wasn't there", "i didn't see it",
        "can't recall", "not sure how long", "no idea how long", "don't know how many",
    ],
    "distress": [
        "i'm really shaken up", "i feel awful", "i can't stop crying", "this is really hard",
        "i'm not ok", "i'm struggling", "i feel sick thinking about it", "that was traumatic",
        "i'm so upset", "i need to talk to someone", "i keep replaying it", "i'm shaking",
        "feeling overwhelmed", "i'm in bits", "really upset tbh",
        "i feel terrible about what happened", "i'm scared", "i don't feel safe",
        "i've been crying", "i can't sleep", "i feel like quitting", "i feel like a failure",
        "im not coping", "i'm not coping at all", "that really got to me", "i'm shaken",
        "i feel really low", "i'm exhausted and upset", "i'm frightened", "this has broken me",
        "i'm really not ok", "i can't do this anymore", "i'm so stressed", "i'm anxious",
        "i feel so guilty", "i feel numb", "honestly i'm a wreck", "i am really upset",
        "still shaking", "i'm really upset about it", "i feel traumatised",
        "i keep thinking about it", "i'm heartbroken", "i feel horrible",
        "i'm not in a good place", "i need support", "i want to speak to someone",
        "i'm falling apart", "feel like crying", "i'm so tired of this i can't cope",
        "it really upset me", "i'm a mess", "bit shaken up", "shaken", "upset",
        "i'm not alright", "i got hurt and i'm really upset", "i'm scared of him now",
        "feeling really anxious after today", "i can't stop thinking about it",
        "it was traumatic", "that was really traumatic for me", "i feel unsafe",
        "i don't feel safe at work", "i'm really shaken", "i'm upset", "i feel awful about it",
        "i'm really struggling today", "i'm not doing well", "i feel broken",
        "it was horrible", "that was horrible", "i'm so shaken up", "i'm in tears",
        "crying", "i feel sick", "i'm panicking", "i'm having a panic attack",
        "i feel really guilty", "i'm not ok after that", "i'm frightened of her",
        "i'm not in a great place", "not in a good place right now", "i'm really down",
        "i'm devastated", "i feel awful, i hurt her", "i'm worried i hurt him",
        "i'm not ok really", "not doing great", "i'm not good", "not coping", "i'm not alright tbh",
        "i'm not feeling great", "not great to be honest, really upset", "i can't sleep after it",
        "i need to speak to someone", "can i talk to someone", "i want to talk to my manager",
        "that was awful", "it was awful", "that was scary", "it was really scary",
        "that was really hard", "it was so upsetting", "that was horrific", "it was horrific",
        "that was really frightening", "it was really distressing", "that was distressing",
        "i'm not doing ok", "i'm not well after that", "i feel rubbish",
    ],
}

# Text-speak and short forms, each written alone and with a few everyday tails, so that the
# model meets every short form in more than one message.
SLANG: dict[str, tuple[list[str], list[str]]] = {
    "affirm": (["aye", "k", "kk", "totally", "yas", "yeh", "ya", "yup", "yh", "ye", "defo",
                "absolutely", "yep", "sure", "affirmative", "correct"],
               ["", " thanks", " that's right", " go on", " yeah", " that's it"]),
    "deny": (["noo", "nein", "negative", "nah", "nope", "naw", "no", "never", "none", "nil"],
             ["", " thanks", " not really", " sorry", " that's wrong", " it wasn't"]),
    "go_back": (["bak", "back", "prev", "previous", "undo", "wrong button", "edit"],
                ["", " please", " one", " a step", " to the last question", " pls"]),
    "pause": (["brb", "gtg", "g2g", "pause", "hold on", "later", "stop"],
              ["", " sorry", " back later", " will finish later", " need to go", " for now"]),
    "unsure": (["idk", "dunno", "dno", "idek", "not sure", "unsure", "no idea"],
               ["", " sorry", " tbh", " really", " to be honest", " can't remember"]),
    "help": (["wdym", "halp", "huh", "wot", "wat", "eh", "help", "explain"],
             ["", " what do you mean", "?", " sorry", " i don't get it", " please"]),
    "skip": (["skip", "skp", "pass", "next", "n/a", "na"],
             ["", " please", " this one", " it", " thanks", " not relevant"]),
}
for _intent, (_cores, _tails) in SLANG.items():
    CONTROL[_intent] += [core + tail for core in _cores for tail in _tails
                         if core + tail not in CONTROL[_intent]]

# ---------------------------------------------------------------- inform: short answers
INFORM_SHORT: list[str] = [
    "about 20 mins", "in the lounge", "she was upset about contact with mum",
    "we tried talking, offering a drink and going for a walk", "teatime", "yesterday at 5pm",
    "{child}", "he was kicking staff and throwing chairs", "she calmed down after a bath",
    "she said she was sorry", "he was anxious about school tomorrow",
    "his mum cancelled contact", "she had a bad phone call with her dad",
    "offered space, distraction, humour, then a drink", "around 7.30pm", "this morning",
    "after school", "just before bed", "lunch time", "at 3pm", "21:15", "last night",
    "he'd been unsettled all day", "she wanted to go out and was told no",
    "he was hitting out at another young person", "to stop her running into the road",
    "to keep him safe, he was climbing on the roof", "she was trying to smash the window",
    "she's calm now and watching tv", "he went to bed and is asleep",
    "she was crying and said we hate her", "he said nothing", "he was laughing",
    "more time to talk earlier in the evening", "a clearer plan for contact days",
    "less noise at teatime would help", "warning her earlier about changes",
    "i think we could have given him more space", "maybe a different member of staff",
    "we talked it through after and he apologised", "he's ok now, playing xbox",
    "she was hungry and tired", "new staff on shift", "another yp was winding him up",
    "his phone was taken off him", "bedtime routine", "change of plan about the trip",
    "we offered her the sensory room and music", "i used calm voice and gave choices",
    "tried to distract him with football", "walked away and gave him space",
    "the other kids were noisy", "she got a letter from court", "{child} was upset",
    "he was swearing and spitting", "she threw a mug at the wall",
    "i think it was proportionate", "yes it was the least restrictive option we had",
    "she said it hurt her feelings that we didn't listen", "he just wanted to be heard",
    "key worker session tomorrow", "restorative chat planned for tomorrow",
    "she drew a picture of how she felt", "he used his signs to say stop",
    "she was pointing at the door", "he covered his ears", "makaton sign for finished",
    "in the kitchen by the back door", "school", "at home", "in the unit", "the flat",
    "2", "3", "5 minutes", "10 mins", "1", "four", "about half an hour",
    "14:30", "not long, maybe a minute", "about 5 minutes i think", "maybe 10 mins",
    "two", "three staff", "me and {child}'s key worker", "in the garden", "upstairs",
    "he was swinging a chair", "she was banging her head on the wall", "they were fighting",
    "at about quarter past six", "around teatime", "monday evening", "on the school run",
    "she wanted her phone back", "he'd not slept", "contact with dad was cancelled",
    "noise from the other kids", "he was told he couldn't go to the shop",
    "she found out her placement is ending", "he was missing his brother",
    "we offered time in the garden and a snack", "i gave him space and spoke calmly",
    "redirection and humour", "she listened to music in her room after",
    "he is calm now", "she's asleep now", "he was tearful but ok", "she's still a bit angry",
    "he said sorry and we had a chat", "she told me she hates it here",
    "he said we were hurting him", "she said she felt scared", "he didn't say anything",
    "she pushed me away", "he held my hand after", "she gave me a thumbs up after",
    "earlier warning about the change of plan", "more one to one time",
    "a calmer handover", "review his behaviour support plan", "talk to school about mornings",
    "Kai", "Maya", "Ruby", "Tyler", "Jordan", "last tuesday", "17:45", "8pm", "this afternoon",
    "during tea", "just after school pick up", "around half 7", "before breakfast",
    "threatening staff with a pen", "trying to get out of the car on the motorway",
    "he was climbing the fence", "she was trying to hurt herself with a broken cd",
]

# ---------------------------------------------------------------- inform: incident descriptions
# Each fragment: annotated text and the facts it contributes. {n} placeholders are filled below.
Fragment = tuple[str, dict[str, Any]]

STAFF_PHRASES: list[tuple[str, int]] = [
    ("me n {name}", 2), ("me and {name}", 2), ("{name} and I", 2), ("2 staff", 2),
    ("two of us", 2), ("me and 2 colleagues", 3), ("a team of three", 3), ("3 staff", 3),
    ("myself and {name}", 2), ("me, {name} and {name2}", 3), ("two staff", 2),
    ("4 members of staff", 4), ("three of us", 3), ("me and another member of staff", 2),
    ("{name}, {name2} and myself", 3), ("me & {name}", 2), ("2 members of staff", 2),
    ("a team of five", 5), ("me and two colleagues", 3), ("{name} and me", 2),
    ("both of us", 2), ("me and my colleague", 2), ("3 of us", 3), ("two staff members", 2),
    ("me + {name}", 2), ("me and 3 others", 4), ("i and {name}", 2), ("4 staff", 4),
    ("myself, {name} and {name2}", 3), ("a colleague and i", 2), ("five staff", 5),
]
HOLD_FRAGS: list[Fragment] = [
    ("took her [to the floor]{{\"entity\": \"hold_type\", \"value\": \"ground\"}}",
     {"hold_types": ["ground"]}),
    ("took him [to the floor]{{\"entity\": \"hold_type\", \"value\": \"ground\"}}",
     {"hold_types": ["ground"]}),
    ("held her in a [seated hold]{{\"entity\": \"hold_type\", \"value\": \"seated\"}}",
     {"hold_types": ["seated"]}),
    ("used a [prone](hold_type) hold", {"hold_types": ["prone"]}),
    ("restrained him [face down]{{\"entity\": \"hold_type\", \"value\": \"prone\"}}",
     {"hold_types": ["prone"]}),
    ("[escorted]{{\"entity\": \"hold_type\", \"value\": \"escort\"}} him",
     {"hold_types": ["escort"]}),
    ("[guided]{{\"entity\": \"hold_type\", \"value\": \"escort\"}} her "
     "[by the arms]{{\"entity\": \"hold_type\", \"value\": \"escort\"}}",
     {"hold_types": ["escort"]}),
    ("held him in a [standing hold]{{\"entity\": \"hold_type\", \"value\": \"standing\"}}",
     {"hold_types": ["standing"]}),
    ("used a [double basket]{{\"entity\": \"hold_type\", \"value\": \"double_basket\"}} hold",
     {"hold_types": ["double_basket"]}),
    ("did a [seated double embrace]{{\"entity\": \"hold_type\", "
     "\"value\": \"seated_double_embrace\"}}", {"hold_types": ["seated_double_embrace"]}),
    ("held her in a [kneeling](hold_type) hold", {"hold_types": ["kneeling"]}),
    ("held her [on her back]{{\"entity\": \"hold_type\", \"value\": \"supine\"}}",
     {"hold_types": ["supine"]}),
    ("held him [on the floor]{{\"entity\": \"hold_type\", \"value\": \"ground\"}} "
     "[on his front]{{\"entity\": \"hold_type\", \"value\": \"prone\"}}",
     {"hold_types": ["ground", "prone"]}),
    ("used [single elbow]{{\"entity\": \"hold_type\", \"value\": \"standing\"}}",
     {"hold_types": ["standing"]}),
    ("held her [seated](hold_type) on the sofa", {"hold_types": ["seated"]}),
    ("took her [to the ground]{{\"entity\": \"hold_type\", \"value\": \"ground\"}} and held her "
     "[supine](hold_type)", {"hold_types": ["ground", "supine"]}),
    ("[walked him]{{\"entity\": \"hold_type\", \"value\": \"escort\"}} out",
     {"hold_types": ["escort"]}),
    ("used a [friendly hold]{{\"entity\": \"hold_type\", \"value\": \"escort\"}} to move her",
     {"hold_types": ["escort"]}),
    ("used [nose distraction]{{\"entity\": \"hold_type\", \"value\": \"nose_distraction\"}}",
     {"hold_types": ["nose_distraction"]}),
    ("held him in a [sitting hold]{{\"entity\": \"hold_type\", \"value\": \"seated\"}}",
     {"hold_types": ["seated"]}),
    ("restrained her [prone](hold_type)", {"hold_types": ["prone"]}),
    ("used a [figure of four]{{\"entity\": \"hold_type\", \"value\": \"standing\"}}",
     {"hold_types": ["standing"]}),
    ("had to [take him down]{{\"entity\": \"hold_type\", \"value\": \"ground\"}}",
     {"hold_types": ["ground"]}),
    ("held her in a [basket hold]{{\"entity\": \"hold_type\", \"value\": \"double_basket\"}}",
     {"hold_types": ["double_basket"]}),
    ("[led her]{{\"entity\": \"hold_type\", \"value\": \"escort\"}} away",
     {"hold_types": ["escort"]}),
    ("restrained him [on the ground]{{\"entity\": \"hold_type\", \"value\": \"ground\"}}",
     {"hold_types": ["ground"]}),
    ("held him [kneeling](hold_type)", {"hold_types": ["kneeling"]}),
    ("used a [double elbow]{{\"entity\": \"hold_type\", \"value\": \"standing\"}}",
     {"hold_types": ["standing"]}),
    ("held him [face down]{{\"entity\": \"hold_type\", \"value\": \"prone\"}} "
     "[on the floor]{{\"entity\": \"hold_type\", \"value\": \"ground\"}}",
     {"hold_types": ["prone", "ground"]}),
    ("held her in a [t-wrap]{{\"entity\": \"hold_type\", \"value\": \"standing\"}}",
     {"hold_types": ["standing"]}),
    ("physically intervened and [escorted]{{\"entity\": \"hold_type\", \"value\": \"escort\"}} "
     "him", {"hold_types": ["escort"]}),
]
NEG_HOLD_FRAGS: list[Fragment] = [
    ("we did not use a [prone](hold_type) hold", {}),
    ("we didn't go [to the floor]{{\"entity\": \"hold_type\", \"value\": \"ground\"}}", {}),
    ("no [floor hold]{{\"entity\": \"hold_type\", \"value\": \"ground\"}} was needed", {}),
    ("she was never [face down]{{\"entity\": \"hold_type\", \"value\": \"prone\"}}", {}),
    ("not [prone](hold_type) at any point", {}),
    ("we avoided going [to the ground]{{\"entity\": \"hold_type\", \"value\": \"ground\"}}", {}),
]
LOCATION_FRAGS: list[Fragment] = [
    ("in her [bedroom]{{\"entity\": \"location\", \"value\": \"bedroom\"}}", {"locations": ["bedroom"]}),
    ("in the [lounge]{{\"entity\": \"location\", \"value\": \"communal\"}}",
     {"locations": ["communal"]}),
    ("on the [landing]{{\"entity\": \"location\", \"value\": \"corridor\"}}",
     {"locations": ["corridor"]}),
    ("in the [classroom]{{\"entity\": \"location\", \"value\": \"classroom\"}}",
     {"locations": ["classroom"]}),
    ("in the [car]{{\"entity\": \"location\", \"value\": \"vehicle\"}}",
     {"locations": ["vehicle"]}),
    ("out in the [garden]{{\"entity\": \"location\", \"value\": \"outdoors\"}}",
     {"locations": ["outdoors"]}),
    ("in the [corridor]{{\"entity\": \"location\", \"value\": \"corridor\"}}", {"locations": ["corridor"]}),
    ("[on his bed]{{\"entity\": \"location\", \"value\": \"bed\"}}", {"locations": ["bed"]}),
    ("in the [bathroom]{{\"entity\": \"location\", \"value\": \"bathroom\"}}", {"locations": ["bathroom"]}),
    ("in the [kitchen]{{\"entity\": \"location\", \"value\": \"communal\"}}",
     {"locations": ["communal"]}),
    ("in [his room]{{\"entity\": \"location\", \"value\": \"bedroom\"}}",
     {"locations": ["bedroom"]}),
    ("in the [dining room]{{\"entity\": \"location\", \"value\": \"communal\"}}",
     {"locations": ["communal"]}),
    ("on the [minibus]{{\"entity\": \"location\", \"value\": \"vehicle\"}}",
     {"locations": ["vehicle"]}),
    ("in the [hallway]{{\"entity\": \"location\", \"value\": \"corridor\"}}",
     {"locations": ["corridor"]}),
    ("in the [playground]{{\"entity\": \"location\", \"value\": \"outdoors\"}}",
     {"locations": ["outdoors"]}),
    ("[outside]{{\"entity\": \"location\", \"value\": \"outdoors\"}} by the shed",
     {"locations": ["outdoors"]}),
    ("in [class]{{\"entity\": \"location\", \"value\": \"classroom\"}}",
     {"locations": ["classroom"]}),
    ("on the [stairs]{{\"entity\": \"location\", \"value\": \"corridor\"}}",
     {"locations": ["corridor"]}),
    ("in the [living room]{{\"entity\": \"location\", \"value\": \"communal\"}}",
     {"locations": ["communal"]}),
    ("[on her bed]{{\"entity\": \"location\", \"value\": \"bed\"}} in her "
     "[bedroom]{{\"entity\": \"location\", \"value\": \"bedroom\"}}", {"locations": ["bed", "bedroom"]}),
    ("in the [toilets]{{\"entity\": \"location\", \"value\": \"bathroom\"}}",
     {"locations": ["bathroom"]}),
    ("in the [taxi]{{\"entity\": \"location\", \"value\": \"vehicle\"}}",
     {"locations": ["vehicle"]}),
    ("in the [car park]{{\"entity\": \"location\", \"value\": \"outdoors\"}}",
     {"locations": ["outdoors"]}),
    ("in the [art room]{{\"entity\": \"location\", \"value\": \"classroom\"}}",
     {"locations": ["classroom"]}),
    ("in the [tv room]{{\"entity\": \"location\", \"value\": \"communal\"}}",
     {"locations": ["communal"]}),
]
DURATION_FRAGS: list[tuple[str, float]] = [
    ("for approx 3 mins", 3), ("for about 10 minutes", 10), ("for half an hour", 30),
    ("from 14:05 until 14:20", 15), ("for 90 seconds", 1.5), ("for a couple of minutes", 2),
    ("for around 5 mins", 5), ("for roughly 15 min", 15), ("for 2 minutes", 2),
    ("for about four minutes", 4), ("for 1 min", 1), ("for twelve minutes", 12),
    ("for approx 20 mins", 20), ("for 45 seconds", 0.75), ("for about a minute", 1),
    ("for 8 mins", 8), ("for an hour", 60), ("for 30 secs", 0.5), ("for a few minutes", 3),
    ("between 19:40 and 19:52", 12), ("for about 6-7 minutes", 7), ("for 11 mins", 11),
    ("for ten minutes", 10), ("for 25 minutes", 25), ("for approximately 2 mins", 2),
    ("for five mins", 5), ("from 8.10pm to 8.25pm", 15), ("for a quarter of an hour", 15),
    ("for 1.5 minutes", 1.5), ("for just under 4 minutes", 4), ("for 3-4 mins", 4),
    ("for two and a half minutes", 2.5), ("for about 40 seconds", 40 / 60),
    ("for 1 hr", 60), ("for 9 minutes", 9), ("for approx. 7 min", 7),
]
INJURY_FRAGS: list[Fragment] = [
    ("no [injuries]{{\"entity\": \"injury\", \"value\": \"injury\"}}",
     {"injury": {"child": False, "staff": False}}),
    ("no [injuries]{{\"entity\": \"injury\", \"value\": \"injury\"}} to anyone",
     {"injury": {"child": False, "staff": False}}),
    ("she wasn't [hurt]{{\"entity\": \"injury\", \"value\": \"injury\"}} but i was "
     "[scratched]{{\"entity\": \"injury\", \"value\": \"injury\"}}",
     {"injury": {"child": False, "staff": True}}),
    ("YP had a [carpet burn]{{\"entity\": \"injury\", \"value\": \"injury\"}} on her knee",
     {"injury": {"child": True}}),
    ("small [graze]{{\"entity\": \"injury\", \"value\": \"injury\"}} to his elbow",
     {"injury": {"child": True}}),
    ("i got [bitten]{{\"entity\": \"injury\", \"value\": \"injury\"}} on the arm",
     {"injury": {"staff": True}}),
    ("no [marks]{{\"entity\": \"injury\", \"value\": \"injury\"}}",
     {"injury": {"child": False, "staff": False}}),
    ("nobody was [hurt]{{\"entity\": \"injury\", \"value\": \"injury\"}}",
     {"injury": {"child": False, "staff": False}}),
    ("no [injury]{{\"entity\": \"injury\", \"value\": \"injury\"}} to YP",
     {"injury": {"child": False}}),
    ("he had a [red mark]{{\"entity\": \"injury\", \"value\": \"injury\"}} on his wrist",
     {"injury": {"child": True}}),
    ("my colleague got a [bruise]{{\"entity\": \"injury\", \"value\": \"injury\"}} on her shin",
     {"injury": {"staff": True}}),
    ("she [bit me]{{\"entity\": \"injury\", \"value\": \"injury\"}}", {"injury": {"staff": True}}),
    ("no one was [injured]{{\"entity\": \"injury\", \"value\": \"injury\"}}",
     {"injury": {"child": False, "staff": False}}),
    ("YP not [hurt]{{\"entity\": \"injury\", \"value\": \"injury\"}}",
     {"injury": {"child": False}}),
    ("he [scratched]{{\"entity\": \"injury\", \"value\": \"injury\"}} me",
     {"injury": {"staff": True}}),
    ("[injuries]{{\"entity\": \"injury\", \"value\": \"injury\"}}: none",
     {"injury": {"child": False, "staff": False}}),
    ("she had a [nosebleed]{{\"entity\": \"injury\", \"value\": \"injury\"}}",
     {"injury": {"child": True}}),
    ("no [injuries]{{\"entity\": \"injury\", \"value\": \"injury\"}} to staff or YP",
     {"injury": {"child": False, "staff": False}}),
    ("i wasn't [hurt]{{\"entity\": \"injury\", \"value\": \"injury\"}}",
     {"injury": {"staff": False}}),
    ("[swelling]{{\"entity\": \"injury\", \"value\": \"injury\"}} on his hand afterwards",
     {"injury": {"child": True}}),
    ("he wasn't [injured]{{\"entity\": \"injury\", \"value\": \"injury\"}}",
     {"injury": {"child": False}}),
    ("i got a [scratch]{{\"entity\": \"injury\", \"value\": \"injury\"}} on my arm",
     {"injury": {"staff": True}}),
    ("no [bruising]{{\"entity\": \"injury\", \"value\": \"injury\"}} seen",
     {"injury": {"child": False, "staff": False}}),
    ("[injuries]{{\"entity\": \"injury\", \"value\": \"injury\"}} - nil",
     {"injury": {"child": False, "staff": False}}),
    ("she was [hurt]{{\"entity\": \"injury\", \"value\": \"injury\"}} on her arm",
     {"injury": {"child": True}}),
    ("a staff member was [scratched]{{\"entity\": \"injury\", \"value\": \"injury\"}} on the face",
     {"injury": {"staff": True}}),
]
PRN_FRAGS: list[Fragment] = [
    ("no [prn]{{\"entity\": \"medication\", \"value\": \"prn\"}}", {"prn_medication": False}),
    ("[prn]{{\"entity\": \"medication\", \"value\": \"prn\"}} given",
     {"prn_medication": True}),
    ("[PRN]{{\"entity\": \"medication\", \"value\": \"prn\"}} offered and taken",
     {"prn_medication": True}),
    ("she had her [prn]{{\"entity\": \"medication\", \"value\": \"prn\"}} after",
     {"prn_medication": True}),
    ("no [PRN]{{\"entity\": \"medication\", \"value\": \"prn\"}} needed",
     {"prn_medication": False}),
    ("was given [lorazepam]{{\"entity\": \"medication\", \"value\": \"prn\"}}",
     {"prn_medication": True}),
    ("[prn]{{\"entity\": \"medication\", \"value\": \"prn\"}} not given",
     {"prn_medication": False}),
    ("[as required medication]{{\"entity\": \"medication\", \"value\": \"prn\"}} was given",
     {"prn_medication": True}),
    ("[meds]{{\"entity\": \"medication\", \"value\": \"prn\"}} refused",
     {"prn_medication": False}),
    ("no [medication]{{\"entity\": \"medication\", \"value\": \"prn\"}} was used",
     {"prn_medication": False}),
    ("he took his [prn meds]{{\"entity\": \"medication\", \"value\": \"prn\"}} at 8",
     {"prn_medication": True}),
    ("didn't need [prn]{{\"entity\": \"medication\", \"value\": \"prn\"}}",
     {"prn_medication": False}),
    ("[promethazine]{{\"entity\": \"medication\", \"value\": \"prn\"}} given at 9pm",
     {"prn_medication": True}),
    ("[prn]{{\"entity\": \"medication\", \"value\": \"prn\"}} - no",
     {"prn_medication": False}),
]
RESTRICT_FRAGS: list[Fragment] = [
    ("we [held the door shut]{{\"entity\": \"restriction\", \"value\": \"locked_door\"}}",
     {"restrictions": ["locked_door"]}),
    ("{name} [blocked the exit]{{\"entity\": \"restriction\", \"value\": \"blocked_exit\"}}",
     {"restrictions": ["blocked_exit"]}),
    ("she went to the [chill out room]{{\"entity\": \"restriction\", \"value\": \"isolation\"}}",
     {"restrictions": ["isolation"]}),
    ("[locked the door]{{\"entity\": \"restriction\", \"value\": \"locked_door\"}}",
     {"restrictions": ["locked_door"]}),
    ("[managed away]{{\"entity\": \"restriction\", \"value\": \"managing_away\"}} from the group",
     {"restrictions": ["managing_away"]}),
    ("[single separation]{{\"entity\": \"restriction\", \"value\": \"single_separation\"}} "
     "in the [quiet room]{{\"entity\": \"restriction\", \"value\": \"isolation\"}}",
     {"restrictions": ["single_separation", "isolation"]}),
    ("he was put in [time out]{{\"entity\": \"restriction\", \"value\": \"isolation\"}}",
     {"restrictions": ["isolation"]}),
    ("i [stood in the doorway]{{\"entity\": \"restriction\", \"value\": \"blocked_exit\"}}",
     {"restrictions": ["blocked_exit"]}),
    ("[switched off her wheelchair]{{\"entity\": \"restriction\", "
     "\"value\": \"mobility_aid_removed\"}}", {"restrictions": ["mobility_aid_removed"]}),
    ("he was in [seclusion]{{\"entity\": \"restriction\", \"value\": \"isolation\"}}",
     {"restrictions": ["isolation"]}),
    ("we never [locked the door]{{\"entity\": \"restriction\", \"value\": \"locked_door\"}}", {}),
    ("we did not [block the door]{{\"entity\": \"restriction\", \"value\": \"blocked_exit\"}}",
     {}),
    ("[separated]{{\"entity\": \"restriction\", \"value\": \"single_separation\"}} from peers",
     {"restrictions": ["single_separation"]}),
    ("[took his walking frame]{{\"entity\": \"restriction\", "
     "\"value\": \"mobility_aid_removed\"}} away", {"restrictions": ["mobility_aid_removed"]}),
    ("[kept the door shut]{{\"entity\": \"restriction\", \"value\": \"locked_door\"}}",
     {"restrictions": ["locked_door"]}),
]
EQUIP_FRAGS: list[Fragment] = [
    ("[seatbelt guard]{{\"entity\": \"equipment\", \"value\": \"seatbelt\"}} on",
     {"equipment": ["seatbelt"]}),
    ("[harness](equipment) used in the [minibus]{{\"entity\": \"location\", \"value\": \"vehicle\"}}",
     {"equipment": ["harness"], "locations": ["vehicle"]}),
    ("[high door handles]{{\"entity\": \"equipment\", \"value\": \"high_door_handle\"}} in place",
     {"equipment": ["high_door_handle"]}),
    ("[cot sides]{{\"entity\": \"equipment\", \"value\": \"high_bed_sides\"}} up",
     {"equipment": ["high_bed_sides"]}),
    ("he was in his [safe space bed]{{\"entity\": \"equipment\", \"value\": \"safe_space_bed\"}}",
     {"equipment": ["safe_space_bed"]}),
    ("[walking reins]{{\"entity\": \"equipment\", \"value\": \"reins\"}} on",
     {"equipment": ["reins"]}),
    ("[wheelchair straps]{{\"entity\": \"equipment\", \"value\": \"wheelchair\"}} done up",
     {"equipment": ["wheelchair"]}),
    ("kept in his [wheelchair](equipment)", {"equipment": ["wheelchair"]}),
    ("[lap belt]{{\"entity\": \"equipment\", \"value\": \"seatbelt\"}} fastened",
     {"equipment": ["seatbelt"]}),
    ("no [harness](equipment) used", {}),
    ("[bed rails]{{\"entity\": \"equipment\", \"value\": \"high_bed_sides\"}} raised",
     {"equipment": ["high_bed_sides"]}),
]
PAIN_FRAGS: list[Fragment] = [
    ("no [pain compliance]{{\"entity\": \"pain\", \"value\": \"pain\"}} used",
     {"pain_inflicted": False}),
    ("{name} used a [wrist lock]{{\"entity\": \"pain\", \"value\": \"pain\"}}",
     {"pain_inflicted": True}),
    ("[pain compliance]{{\"entity\": \"pain\", \"value\": \"pain\"}} was used to get him to let go",
     {"pain_inflicted": True}),
    ("no [pain](pain) was caused", {"pain_inflicted": False}),
    ("{name} [bent his fingers back]{{\"entity\": \"pain\", \"value\": \"pain\"}}",
     {"pain_inflicted": True}),
    ("she was not in [pain](pain)", {"pain_inflicted": False}),
]
PUNISH_FRAGS: list[Fragment] = [
    ("it was not a [punishment](punishment)", {"used_as_punishment": False}),
    ("{name} said it was [to teach him a lesson]{{\"entity\": \"punishment\", "
     "\"value\": \"punishment\"}}", {"used_as_punishment": True}),
    ("it was never used as a [punishment](punishment)", {"used_as_punishment": False}),
    ("he was held [as a punishment]{{\"entity\": \"punishment\", \"value\": \"punishment\"}} "
     "for swearing", {"used_as_punishment": True}),
    ("not as a [sanction]{{\"entity\": \"punishment\", \"value\": \"punishment\"}}",
     {"used_as_punishment": False}),
]
OPENERS = [
    "", "", "{child} was kicking off at teatime.", "YP became dysregulated after tea.",
    "she was throwing things at staff and", "he tried to abscond and", "after contact",
    "following an argument with a peer", "yp was hitting out so", "she was self harming so",
    "PI at approx 6pm.", "{child} punched the wall then went for another yp.",
    "he was trying to climb out of the window and", "incident at teatime -",
    "she refused to do her work and was throwing chairs.",
    "after a phone call with mum he was really upset.", "we tried distraction and space first.",
    "de-escalation tried first before hands on.", "YP ran at staff,",
]
PLACE_WORDS = ["kitchen", "lounge", "classroom", "garden", "hallway"]
CLOSERS = ["", "", "", "she calmed down after.", "he's settled now.", "debrief done with YP.",
           "restorative chat tomorrow.", "manager informed.", "he apologised later.",
           "all staff ok.", "she went to bed after.", "we talked it through after."]
TRAP_INFORMS: list[str] = [
    "he wanted to skip school so we went to the car and he got upset, we escorted him inside",
    "she said she wanted to skip tea and go back to her room, then threw a plate",
    "he kept saying stop, stop, but he was hitting his head on the wall so we held him",
    "she said she didn't know why she was upset, we sat with her in the lounge",
    "he asked for help with his homework and got frustrated and threw his chair",
    "i said yes she could go out later but she wanted to go now and kicked off",
    "she was upset and crying in her room, we stayed with her and talked",
    "the other yp said no to sharing the xbox and he went for him",
    "he wanted to go back home to his mum and tried to leave through the window",
    "i was scared he would run into the road so we guided him back inside",
    "she wanted a break from class and when told to wait she hit out",
    "we paused the game and he got angry, threw the controller at staff",
    "he couldn't remember his pin for his phone and smashed it, then went for staff",
    "she said help me and then ran at the door",
    "i told him to go back to his room and he refused and hit me",
    "he was upset after his mum didn't turn up for contact",
    "she was distressed and screaming so we moved the other children away",
    "he was really anxious about court tomorrow, kept pacing the corridor",
]


def plain(annotated: str) -> str:
    """The text of an annotated example, without the annotation markup."""
    text = re.sub(r"\[([^\]]+)\]\{[^}]*\}", r"\1", annotated)
    return re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)


def annotated_entities(annotated: str) -> list[tuple[str, str, str]]:
    """(surface text, entity, value) for each annotation in an example."""
    found: list[tuple[str, str, str]] = []
    for match in re.finditer(r"\[([^\]]+)\](\{[^}]*\}|\([^)]*\))", annotated):
        surface, spec = match.group(1), match.group(2)
        if spec.startswith("("):
            found.append((surface, spec[1:-1], surface.lower()))
        else:
            data = yaml.safe_load(spec)
            found.append((surface, data["entity"], data.get("value", surface.lower())))
    return found


def typo(word: str, rng: random.Random) -> str:
    """A plausible phone typo: a dropped, doubled or swapped letter."""
    if len(word) < 5 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def noisy(text: str, rng: random.Random, *, rate: float) -> str:
    """Lower-case it sometimes and add typos to words outside the annotation markup."""
    parts = re.split(r"(\[[^\]]+\](?:\{[^}]*\}|\([^)]*\)))", text)
    out = []
    for part in parts:
        if part.startswith("[") or not part:
            out.append(part)
            continue
        out.append(" ".join(typo(w, rng) if rng.random() < rate else w for w in part.split(" ")))
    result = "".join(out)
    return result.lower() if rng.random() < 0.5 else result


def merge(facts: dict[str, Any], delta: dict[str, Any]) -> None:
    """Add one fragment's facts to a description's facts."""
    for key, value in delta.items():
        if isinstance(value, list):
            facts.setdefault(key, [])
            facts[key] += [v for v in value if v not in facts[key]]
        elif isinstance(value, dict):
            facts.setdefault(key, {}).update(value)
        else:
            facts[key] = value


def describe(parts: dict[str, Any], rng: random.Random) -> tuple[str, dict[str, Any]]:
    """One annotated incident description and its gold facts."""
    facts: dict[str, Any] = {}
    name, name2 = rng.sample(NAMES, 2)
    child = rng.choice(CHILDREN)
    staff_text, staff_n = rng.choice(parts["staff"])
    hold, hold_facts = rng.choice(parts["hold"])
    pieces: list[str] = []
    opener = rng.choice(parts["openers"])
    if opener:
        pieces.append(opener)
    use_staff = rng.random() < 0.7
    subject = staff_text if use_staff else rng.choice(["we", "i", "staff"])
    if use_staff:
        facts["staff_count"] = staff_n
    core = f"{subject} {hold}"
    merge(facts, hold_facts)
    if rng.random() < 0.7:
        loc, loc_facts = rng.choice(parts["location"])
        core += f" {loc}"
        merge(facts, loc_facts)
    if rng.random() < 0.75:
        dur, minutes = rng.choice(parts["duration"])
        core += f" {dur}"
        facts["duration_minutes"] = minutes
    pieces.append(core)
    extras = [("injury", 0.6), ("prn", 0.45), ("restrict", 0.2), ("equip", 0.12),
              ("neg_hold", 0.12), ("pain", 0.08), ("punish", 0.06)]
    for key, chance in extras:
        if rng.random() < chance:
            frag, delta = rng.choice(parts[key])
            pieces.append(frag)
            merge(facts, delta)
    closer = rng.choice(CLOSERS)
    if closer:
        pieces.append(closer)
    sep = rng.choice([", ", ". ", " ", ". ", ", "])
    text = pieces[0]
    for piece in pieces[1:]:
        joiner = " " if text.endswith((".", "-", ",", " and", " so")) else sep
        text += joiner + piece
    place = rng.choice(PLACE_WORDS)
    text = text.replace("{name}", name).replace("{name2}", name2).replace("{child}", child)
    text = text.replace("{place}", place).replace("{{", "{").replace("}}", "}")
    return noisy(text, rng, rate=0.04), facts


def build(rng: random.Random) -> dict[str, dict[str, Any]]:
    """Train and test material: examples per intent, and gold facts for test descriptions."""
    out: dict[str, dict[str, Any]] = {"train": {"examples": {}, "facts": []},
                                       "test": {"examples": {}, "facts": []}}
    for intent, phrases in CONTROL.items():
        train, test = split(phrases, rng)
        out["train"]["examples"][intent] = train + [noisy(p, rng, rate=0.2) for p in train[:25]]
        out["test"]["examples"][intent] = test
    pools = {
        "staff": STAFF_PHRASES, "hold": HOLD_FRAGS, "location": LOCATION_FRAGS,
        "duration": DURATION_FRAGS, "injury": INJURY_FRAGS, "prn": PRN_FRAGS,
        "restrict": RESTRICT_FRAGS, "equip": EQUIP_FRAGS, "neg_hold": NEG_HOLD_FRAGS,
        "pain": PAIN_FRAGS, "punish": PUNISH_FRAGS, "openers": OPENERS,
    }
    halves: dict[str, dict[str, Any]] = {"train": {}, "test": {}}
    for key, pool in pools.items():
        train, test = split(pool, rng)  # type: ignore[arg-type]
        halves["train"][key], halves["test"][key] = train, test
    short_train, short_test = split(INFORM_SHORT, rng)
    trap_train, trap_test = split(TRAP_INFORMS, rng)
    for part, count, shorts, traps in (("train", 420, short_train, trap_train),
                                       ("test", 140, short_test, trap_test)):
        informs: list[str] = []
        for _ in range(count):
            text, facts = describe(halves[part], rng)
            informs.append(text)
            if part == "test":
                out[part]["facts"].append({"text": plain(text), "facts": facts})
        fill = [s.replace("{child}", rng.choice(CHILDREN)) for s in shorts]
        out[part]["examples"]["inform"] = informs + fill + traps
    seen = {" ".join(t.lower().split()) for ts in out["train"]["examples"].values() for t in ts}
    for intent, items in out["test"]["examples"].items():
        out["test"]["examples"][intent] = [
            t for t in items if " ".join(plain(t).lower().split()) not in seen]
    return out


def lexicon_yaml() -> list[dict[str, Any]]:
    """Synonym and lookup entries for the lexicon (shared by both backends)."""
    entries: list[dict[str, Any]] = []
    for values in LEXICON.values():
        for canonical, forms in values.items():
            others = [f for f in forms if f != canonical]
            if others:
                entries.append({"synonym": canonical, "examples": others})
    for entity, values in LEXICON.items():
        forms = sorted({f for v in values.values() for f in v})
        entries.append({"lookup": entity, "examples": forms})
    entries.append({"regex": "duration", "examples": [
        r"\b\d+(\.\d+)?\s*(mins?|minutes?|secs?|seconds?|hrs?|hours?)\b",
        r"\b\d{1,2}[:.]\d{2}\s*(-|to|until|till|and)\s*\d{1,2}[:.]\d{2}\b"]})
    entries.append({"regex": "staff_count", "examples": [
        r"\b\d+\s*(staff|members of staff|colleagues|of us)\b"]})
    return entries


def dump(path: Path, examples: dict[str, list[str]], *, with_lexicon: bool) -> None:
    """Write one Rasa 3.x nlu.yml."""
    lines = ['version: "3.1"', "", "nlu:"]
    for intent, items in examples.items():
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        seen: set[str] = set()
        for item in items:
            item = " ".join(item.split())
            if item and item not in seen:
                seen.add(item)
                lines.append(f"    - {item}")
    if with_lexicon:
        for entry in lexicon_yaml():
            kind = next(iter(entry))
            lines.append(f"- {kind}: {entry[kind]}")
            lines.append("  examples: |")
            lines += [f"    - {e}" for e in entry["examples"]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    """Regenerate the committed YAML files."""
    rng = random.Random(SEED)
    data = build(rng)
    dump(HERE / "nlu.yml", data["train"]["examples"], with_lexicon=True)
    (HERE / "test").mkdir(exist_ok=True)
    dump(HERE / "test" / "nlu.yml", data["test"]["examples"], with_lexicon=False)
    facts = [{"text": " ".join(f["text"].split()), "facts": f["facts"]}
             for f in data["test"]["facts"]]
    (HERE / "test" / "facts.yml").write_text(
        "# Gold facts for the held-out incident descriptions (keys absent = not said).\n"
        + yaml.safe_dump(facts, sort_keys=False, allow_unicode=True, width=1000),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
