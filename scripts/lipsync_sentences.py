"""Sentences for training and evaluating audio lip sync on Piper speech.

Written for this project. The training and evaluation sets share no sentence;
``random_phrases`` adds word sequences that reach phone pairs the sentences miss.
"""

from __future__ import annotations

import random

TRAIN: tuple[str, ...] = (
    "Welcome back, everyone, it is great to see you all again.",
    "Thanks so much for the follow, that really made my day.",
    "Let me read the chat before we jump into the next round.",
    "Could somebody remind me what the boss is weak against?",
    "I forgot to save, and now the whole village is on fire.",
    "Oh no, the bridge just collapsed under my feet!",
    "We are going to try the speed run one more time.",
    "Somebody in chat says I should open the blue door first.",
    "My keyboard is sticky because I spilled orange juice on it.",
    "That cheer was enormous, thank you, you legend!",
    "Raid incoming! Say hello to all of our new friends.",
    "The weather outside is cold, wet and really gloomy today.",
    "I would rather fight ten small ducks than one huge horse.",
    "Who wants to hear a terrible joke about cheese?",
    "Please be kind to each other in the comments.",
    "Moderators, could you keep an eye on that user?",
    "We reached the goal, so tomorrow I will sing a song.",
    "Is the audio too loud, or is it just right?",
    "My cat keeps walking across the desk and pressing buttons.",
    "The map shows a hidden cave behind the waterfall.",
    "Each puzzle gets harder than the one before it.",
    "I have never seen a chicken run that fast in my life.",
    "Remember to drink some water and stretch your shoulders.",
    "Boom, headshot, did anybody clip that?",
    "You can find the schedule on the panel below the stream.",
    "This soup recipe uses potatoes, leeks and a little cream.",
    "Jupiter is the largest planet in our solar system.",
    "A thousand thanks to everyone who joined the charity event.",
    "The quiet boy bought a jar of plum jam for his mother.",
    "Five wizards juggled boxes of quivering yellow jelly.",
    "She sells sea shells by the sea shore every summer.",
    "How much wood would a woodchuck chuck if it could?",
    "Violets grow beside the old oak fence in June.",
    "Our zoo has a zebra, a yak, two owls and a moose.",
    "The thief threw three thick things through the thatch.",
    "Measure twice, cut once, and never rush the glue.",
    "Usually the vision test is a pleasure, not a chore.",
    "Judge the book by its content, not by its cover.",
    "Watch out for the rolling boulders near the exit.",
    "Let's go team, we can still win this match!",
    "I think the answer is forty two, but I'm not sure.",
    "Good morning from a very sleepy streamer.",
    "That was a close call, my heart is still racing.",
    "We unlocked the golden armor at last.",
    "Hmm, maybe I should have picked the other character.",
    "Nobody expected the penguin to win the race.",
    "If you enjoy the stream, consider sharing it with a friend.",
    "The loading screen says tip number nine: always carry rope.",
    "Bubbles floated up from the bottom of the murky pond.",
    "Put the red book back on the highest shelf, please.",
    "Every autumn the geese fly south over the hills.",
    "An owl hooted twice, and then the forest went silent.",
    "Would you like tea, coffee, or hot chocolate?",
    "Pizza with pineapple is a crime, and I will not apologize.",
    "The museum opens at ten and closes at half past six.",
    "Quickly, hide behind the crates before the guards return!",
    "I lost my sword, my shield and all of my dignity.",
    "Thank you for the five gifted subs, that is amazing.",
    "Our next goal is a cozy cooking stream on Sunday.",
    "Why do the monsters always attack when I open my inventory?",
    "Look at this gorgeous sunset over the mountains.",
    "He whispered something, but the music was too loud.",
    "Eighty eight keys make up a standard piano.",
    "Use the arrow keys to move and the space bar to jump.",
    "The old train rumbled slowly through the valley.",
    "Apples, oranges, bananas and grapes are on the table.",
    "Oops, I pressed the wrong button again.",
    "Wow, your drawing of me is absolutely beautiful.",
    "Let me check the settings and fix the microphone.",
    "The dragon sleeps on a mountain of gold coins.",
    "Under the bed I found a sock, a spoon and a map.",
    "Hey there, what are you all up to this evening?",
    "Rainy days are perfect for puzzles and warm blankets.",
    "It took me three hours to beat that level.",
    "Thanks for hanging out, see you next time, bye bye!",
    "Oh boy, here we go again.",
    "The jury voted to award the prize to the youngest player.",
    "Shh, be very quiet, we are hunting rabbits.",
    "Choose wisely: the left path or the right path.",
    "Who owns the yellow bicycle parked by the door?",
    "Avoid the poison mushrooms, they cost you half your health.",
    "Seven silver swans swam silently southward.",
    "My favorite color is purple, what is yours?",
    "The recipe says to bake it for twenty minutes.",
    "A huge wave washed the sand castle away.",
    "I am totally fine, everything is under control.",
    "Uh oh, the lights just went out in the castle.",
    "Brave knights never run, they just retreat strategically.",
    "We should build a bigger boat before the storm.",
    "Two plus two is four, minus one, that's three, quick maths.",
    "Ooh, a shiny new achievement popped up.",
    "Honestly, that ending made me cry a little.",
    "Please give a warm welcome to our guest tonight.",
    "The fox ate all of the blueberries in the garden.",
    "Mister Smith was born in a small town in Ohio.",
    "Aim for the weak spot on the robot's back.",
    "Keep calm and carry on collecting those coins.",
    "Ahh, I can't believe I missed that jump.",
    "Eww, what is that green goo on the floor?",
    "Early birds get the worm, but the second mouse gets the cheese.",
    "A broken clock is right twice a day.",
    "The ship's captain shouted orders over the howling wind.",
    "I owe you one, buddy.",
    "Oh, oh, oh, look at that, we did it!",
    "You are awesome, and I appreciate every one of you.",
    "Meow, said the cat, and then it knocked over my cup.",
    "Who would win, a shark or a gorilla?",
    "Unusual rules apply during the autumn festival.",
    "The violin player bowed deeply to the audience.",
    "Zoom in on the map so we can see the tiny island.",
)

EVAL: tuple[str, ...] = (
    "Hello there, welcome to the stream! How are you doing today?",
    "The quick brown fox jumps over the lazy dog.",
    "Thanks for the follow, Mister Anderson, you are awesome.",
    "I think that is a great idea; let us try it right now.",
    "Please subscribe, and maybe share the video with your friends.",
    "Oh wow, a raid with fifty viewers, welcome everyone!",
    "My computer crashed twice during the boss fight yesterday.",
    "Would you rather eat a lemon or a raw onion?",
    "Blue balloons bounced above the busy market square.",
    "Today we are playing a cozy farming game about pumpkins.",
    "Who moved my coffee mug? It was right here a moment ago.",
    "Seriously, chat, stop telling me to jump into the lava.",
    "The moon looks huge and orange tonight.",
    "Okay, okay, I admit it, that was my fault.",
    "Friday evenings are for music, snacks and silly games.",
    "Show me your best emote in the chat right now.",
    "We need three more points to unlock the secret ending.",
    "Jellyfish drift through the ocean without a brain.",
    "Hold on, let me adjust the volume a tiny bit.",
    "Goodnight everybody, sleep well and dream of cookies.",
)

_WORDS = (
    "ah oh ooh ee eye you we why way wow yeah oy boy toy joy choose shoes "
    "thought though through threw thigh thy vow view few fume fuzz buzz zoo "
    "map mop mope mum mime maim moon noon nine none ring rang rung long lung "
    "cheap chip chop chap church judge jug gem yes yawn yearn earn urn are ear "
    "air oar hour our fire fair four far fur feather leather lever lover "
    "bob baby bubble pepper paper pop pip peep pup kick cook cake coke keep "
    "dad did dead deed dude tot tight tart tote two tea toy tie sit set sat "
    "soot suit seat sought pleasure measure vision usual azure treasure "
    "wolf hoof roof wool rule pool fool full pull push bush book look "
    "mama papa nanny kitty doggy puppy bunny happy sleepy hungry angry "
    "almost always also awful office object ugly under upper utter other"
).split()


def random_phrases(count: int, seed: int = 0, length: tuple[int, int] = (4, 9)) -> list[str]:
    """Seeded word sequences for phone combinations the sentences lack."""
    rng = random.Random(seed)
    phrases = []
    for _ in range(count):
        words = rng.choices(_WORDS, k=rng.randint(*length))
        end = rng.choice([".", "!", "?", ",", "."])
        phrases.append(" ".join(words).capitalize() + end)
    return phrases
