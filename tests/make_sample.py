"""Write the sample crawl bundled with provsieve: ``pipeline/sample/sample.warc.gz``
and its ground-truth manifest ``pipeline/sample/SAMPLE.md``.

    python tests/make_sample.py                 # rewrite both in place
    python tests/make_sample.py --out x.warc.gz --manifest x.md

Deterministic: the same code always writes the same bytes (the test-suite
regenerates it and compares). Human texts are faithful excerpts of
public-domain works; the ``ai`` texts were written for this sample by an AI
assistant in its usual style. Every page, its capture date and the role it
plays (original, duplicate, claimed date, ...) is listed in :data:`PAGES`.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from warc_fixtures import (  # noqa: E402
    html_page,
    http_response_record,
    record_id_for,
    request_record,
    tiny_png,
    warcinfo_record,
    write_warc,
)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_WARC = REPO / "pipeline" / "sample" / "sample.warc.gz"
DEFAULT_MANIFEST = REPO / "pipeline" / "sample" / "SAMPLE.md"
WARC_FILENAME = "sample.warc.gz"
CUTOFF = "2022-11-30"

ROLES = ("original", "claimed-date", "modified-after-cutoff", "exact-dup", "near-dup", "spam-date", "binary", "404")
LABELS = ("human", "ai", "n/a")


@dataclass(frozen=True)
class Page:
    key: str
    url: str
    captured: str
    """WARC-Date (UTC)."""
    label: str
    role: str
    title: str = ""
    paragraphs: Sequence[str] = ()
    source: str = ""
    """Where a human text comes from (for SAMPLE.md)."""
    dup_of: Optional[str] = None
    expect_tier: str = "none"
    """Intended ``pre_cutoff_evidence``: captured / claimed / none."""
    expect: str = ""
    """Intended outcome, in words (SAMPLE.md)."""
    published: Optional[str] = None
    modified: Optional[str] = None
    jsonld: bool = False
    time_tag: bool = False
    author: Optional[str] = None
    site_name: str = "Example Reader"
    nav: Optional[Sequence[str]] = None
    article_header: Optional[str] = None
    article_footer: Optional[str] = None
    http_headers: tuple = ()
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    payload: Optional[bytes] = None
    """Raw payload instead of an HTML page (binary / 404)."""

    def body(self) -> bytes | str:
        if self.payload is not None:
            return self.payload
        return html_page(self.title, self.paragraphs, published=self.published, modified=self.modified,
                         jsonld=self.jsonld, time_tag=self.time_tag, author=self.author,
                         site_name=self.site_name, nav=self.nav, article_header=self.article_header,
                         article_footer=self.article_footer)


# --- public-domain human texts (faithful excerpts) --------------------------------

GETTYSBURG = (
    "Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived in "
    "Liberty, and dedicated to the proposition that all men are created equal.",
    "Now we are engaged in a great civil war, testing whether that nation, or any nation so conceived and so "
    "dedicated, can long endure. We are met on a great battle-field of that war. We have come to dedicate a "
    "portion of that field, as a final resting place for those who here gave their lives that that nation "
    "might live. It is altogether fitting and proper that we should do this.",
    "But, in a larger sense, we can not dedicate\u2014we can not consecrate\u2014we can not hallow\u2014this "
    "ground. The brave men, living and dead, who struggled here, have consecrated it, far above our poor power "
    "to add or detract. The world will little note, nor long remember what we say here, but it can never "
    "forget what they did here. It is for us the living, rather, to be dedicated here to the unfinished work "
    "which they who fought here have thus far so nobly advanced. It is rather for us to be here dedicated to "
    "the great task remaining before us\u2014that from these honored dead we take increased devotion to that "
    "cause for which they gave the last full measure of devotion\u2014that we here highly resolve that these "
    "dead shall not have died in vain\u2014that this nation, under God, shall have a new birth of "
    "freedom\u2014and that government of the people, by the people, for the people, shall not perish from "
    "the earth.",
)

SECOND_INAUGURAL = (
    "Fellow-Countrymen: At this second appearing to take the oath of the Presidential office there is less "
    "occasion for an extended address than there was at the first. Then a statement somewhat in detail of a "
    "course to be pursued seemed fitting and proper. Now, at the expiration of four years, during which public "
    "declarations have been constantly called forth on every point and phase of the great contest which still "
    "absorbs the attention and engrosses the energies of the nation, little that is new could be presented. "
    "The progress of our arms, upon which all else chiefly depends, is as well known to the public as to "
    "myself, and it is, I trust, reasonably satisfactory and encouraging to all. With high hope for the "
    "future, no prediction in regard to it is ventured.",
    "Fondly do we hope, fervently do we pray, that this mighty scourge of war may speedily pass away. Yet, if "
    "God wills that it continue until all the wealth piled by the bondsman's two hundred and fifty years of "
    "unrequited toil shall be sunk, and until every drop of blood drawn with the lash shall be paid by another "
    "drawn with the sword, as was said three thousand years ago, so still it must be said \"the judgments of "
    "the Lord are true and righteous altogether.\"",
    "With malice toward none, with charity for all, with firmness in the right as God gives us to see the "
    "right, let us strive on to finish the work we are in, to bind up the nation's wounds, to care for him who "
    "shall have borne the battle and for his widow and his orphan, to do all which may achieve and cherish a "
    "just and lasting peace among ourselves and with all nations.",
)

PRIDE_AND_PREJUDICE = (
    "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in "
    "want of a wife.",
    "However little known the feelings or views of such a man may be on his first entering a neighbourhood, "
    "this truth is so well fixed in the minds of the surrounding families, that he is considered the rightful "
    "property of some one or other of their daughters.",
    "\u201cMy dear Mr. Bennet,\u201d said his lady to him one day, \u201chave you heard that Netherfield Park "
    "is let at last?\u201d",
    "Mr. Bennet replied that he had not.",
    "\u201cBut it is,\u201d returned she; \u201cfor Mrs. Long has just been here, and she told me all about "
    "it.\u201d",
    "Mr. Bennet made no answer.",
    "\u201cDo you not want to know who has taken it?\u201d cried his wife impatiently.",
    "\u201cYou want to tell me, and I have no objection to hearing it.\u201d",
    "This was invitation enough.",
    "\u201cWhy, my dear, you must know, Mrs. Long says that Netherfield is taken by a young man of large fortune "
    "from the north of England; that he came down on Monday in a chaise and four to see the place, and was so "
    "much delighted with it, that he agreed with Mr. Morris immediately; that he is to take possession before "
    "Michaelmas, and some of his servants are to be in the house by the end of next week.\u201d",
    "\u201cWhat is his name?\u201d",
    "\u201cBingley.\u201d",
    "\u201cIs he married or single?\u201d",
    "\u201cOh! Single, my dear, to be sure! A single man of large fortune; four or five thousand a year. What a "
    "fine thing for our girls!\u201d",
)

TALE_OF_TWO_CITIES = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
    "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it "
    "was the season of Darkness, it was the spring of hope, it was the winter of despair, we had everything "
    "before us, we had nothing before us, we were all going direct to Heaven, we were all going direct the "
    "other way\u2014in short, the period was so far like the present period, that some of its noisiest "
    "authorities insisted on its being received, for good or for evil, in the superlative degree of "
    "comparison only.",
    "There were a king with a large jaw and a queen with a plain face, on the throne of England; there were a "
    "king with a large jaw and a queen with a fair face, on the throne of France. In both countries it was "
    "clearer than crystal to the lords of the State preserves of loaves and fishes, that things in general "
    "were settled for ever.",
    "It was the year of Our Lord one thousand seven hundred and seventy-five. Spiritual revelations were "
    "conceded to England at that favoured period, as at this.",
)

MOBY_DICK = (
    "Call me Ishmael. Some years ago\u2014never mind how long precisely\u2014having little or no money in my "
    "purse, and nothing particular to interest me on shore, I thought I would sail about a little and see the "
    "watery part of the world. It is a way I have of driving off the spleen and regulating the circulation. "
    "Whenever I find myself growing grim about the mouth; whenever it is a damp, drizzly November in my soul; "
    "whenever I find myself involuntarily pausing before coffin warehouses, and bringing up the rear of every "
    "funeral I meet; and especially whenever my hypos get such an upper hand of me, that it requires a strong "
    "moral principle to prevent me from deliberately stepping into the street, and methodically knocking "
    "people's hats off\u2014then, I account it high time to get to sea as soon as I can. This is my substitute "
    "for pistol and ball. With a philosophical flourish Cato throws himself upon his sword; I quietly take to "
    "the ship. There is nothing surprising in this. If they but knew it, almost all men in their degree, some "
    "time or other, cherish very nearly the same feelings towards the ocean with me.",
)

WALDEN = (
    "When I wrote the following pages, or rather the bulk of them, I lived alone, in the woods, a mile from "
    "any neighbor, in a house which I had built myself, on the shore of Walden Pond, in Concord, "
    "Massachusetts, and earned my living by the labor of my hands only. I lived there two years and two "
    "months. At present I am a sojourner in civilized life again.",
    "I should not obtrude my affairs so much on the notice of my readers if very particular inquiries had not "
    "been made by my townsmen concerning my mode of life, which some would call impertinent, though they do "
    "not appear to me at all impertinent, but, considering the circumstances, very natural and pertinent. "
    "Some have asked what I got to eat; if I did not feel lonesome; if I was not afraid; and the like. Others "
    "have been curious to learn what portion of my income I devoted to charitable purposes; and some, who "
    "have large families, how many poor children I maintained. I will therefore ask those of my readers who "
    "feel no particular interest in me to pardon me if I undertake to answer some of these questions in this "
    "book. In most books, the I, or first person, is omitted; in this it will be retained; that, in respect "
    "to egotism, is the main difference. We commonly do not remember that it is, after all, always the first "
    "person that is speaking. I should not talk so much about myself if there were anybody else whom I knew "
    "as well. Unfortunately, I am confined to this theme by the narrowness of my experience.",
)

DARWIN = (
    "When we look to the individuals of the same variety or sub-variety of our older cultivated plants and "
    "animals, one of the first points which strikes us, is, that they generally differ much more from each "
    "other, than do the individuals of any one species or variety in a state of nature. When we reflect on "
    "the vast diversity of the plants and animals which have been cultivated, and which have varied during "
    "all ages under the most different climates and treatment, I think we are driven to conclude that this "
    "greater variability is simply due to our domestic productions having been raised under conditions of "
    "life not so uniform as, and somewhat different from, those to which the parent-species have been exposed "
    "under nature. There is, also, I think, some probability in the view propounded by Andrew Knight, that "
    "this variability may be partly connected with excess of food.",
    "It seems pretty clear that organic beings must be exposed during several generations to the new "
    "conditions of life to cause any appreciable amount of variation; and that when the organisation has once "
    "begun to vary, it generally continues to vary for many generations. No case is on record of a variable "
    "being ceasing to be variable under cultivation. Our oldest cultivated plants, such as wheat, still often "
    "yield new varieties: our oldest domesticated animals are still capable of rapid improvement or "
    "modification.",
)

FEDERALIST_10 = (
    "AMONG the numerous advantages promised by a well-constructed Union, none deserves to be more accurately "
    "developed than its tendency to break and control the violence of faction. The friend of popular "
    "governments never finds himself so much alarmed for their character and fate, as when he contemplates "
    "their propensity to this dangerous vice. He will not fail, therefore, to set a due value on any plan "
    "which, without violating the principles to which he is attached, provides a proper cure for it. The "
    "instability, injustice, and confusion introduced into the public councils, have, in truth, been the "
    "mortal diseases under which popular governments have everywhere perished; as they continue to be the "
    "favorite and fruitful topics from which the adversaries to liberty derive their most specious "
    "declamations.",
    "The valuable improvements made by the American constitutions on the popular models, both ancient and "
    "modern, cannot certainly be too much admired; but it would be an unwarrantable partiality, to contend "
    "that they have as effectually obviated the danger on this side, as was wished and expected. Complaints "
    "are everywhere heard from our most considerate and virtuous citizens, equally the friends of public and "
    "private faith, and of public and personal liberty, that our governments are too unstable, that the "
    "public good is disregarded in the conflicts of rival parties, and that measures are too often decided, "
    "not according to the rules of justice and the rights of the minor party, but by the superior force of "
    "an interested and overbearing majority.",
)

HUCKLEBERRY_FINN = (
    "You don't know about me without you have read a book by the name of The Adventures of Tom Sawyer; but "
    "that ain't no matter. That book was made by Mr. Mark Twain, and he told the truth, mainly. There was "
    "things which he stretched, but mainly he told the truth. That is nothing. I never seen anybody but lied "
    "one time or another, without it was Aunt Polly, or the widow, or maybe Mary. Aunt Polly\u2014Tom's Aunt "
    "Polly, she is\u2014and Mary, and the Widow Douglas is all told about in that book, which is mostly a "
    "true book, with some stretchers, as I said before.",
    "Now the way that the book winds up is this: Tom and me found the money that the robbers hid in the cave, "
    "and it made us rich. We got six thousand dollars apiece\u2014all gold. It was an awful sight of money "
    "when it was piled up. Well, Judge Thatcher he took it and put it out at interest, and it fetched us a "
    "dollar a day apiece all the year round\u2014more than a body could tell what to do with. The Widow "
    "Douglas she took me for her son, and allowed she would sivilize me; but it was rough living in the house "
    "all the time, considering how dismal regular and decent the widow was in all her ways; and so when I "
    "couldn't stand it no longer I lit out. I got into my old rags and my sugar-hogshead again, and was free "
    "and satisfied.",
)

THREE_MEN_IN_A_BOAT = (
    "There were four of us\u2014George, and William Samuel Harris, and myself, and Montmorency. We were "
    "sitting in my room, smoking, and talking about how bad we were\u2014bad from a medical point of view I "
    "mean, of course.",
    "We were all feeling seedy, and we were getting quite nervous about it. Harris said he felt such "
    "extraordinary fits of giddiness come over him at times, that he hardly knew what he was doing; and then "
    "George said that he had fits of giddiness too, and hardly knew what he was doing. With me, it was my "
    "liver that was out of order. I knew it was my liver that was out of order, because I had just been "
    "reading a patent liver-pill circular, in which were detailed the various symptoms by which a man could "
    "tell when his liver was out of order. I had them all.",
    "It is a most extraordinary thing, but I never read a patent medicine advertisement without being "
    "impelled to the conclusion that I am suffering from the particular disease therein dealt with in its "
    "most virulent form. The diagnosis seems in every case to correspond exactly with all the sensations that "
    "I have ever felt.",
)

JANE_EYRE = (
    "There was no possibility of taking a walk that day. We had been wandering, indeed, in the leafless "
    "shrubbery an hour in the morning; but since dinner (Mrs. Reed, when there was no company, dined early) "
    "the cold winter wind had brought with it clouds so sombre, and a rain so penetrating, that further "
    "out-door exercise was now out of the question.",
    "I was glad of it: I never liked long walks, especially on chilly afternoons: dreadful to me was the "
    "coming home in the raw twilight, with nipped fingers and toes, and a heart saddened by the chidings of "
    "Bessie, the nurse, and humbled by the consciousness of my physical inferiority to Eliza, John, and "
    "Georgiana Reed.",
    "The said Eliza, John, and Georgiana were now clustered round their mama in the drawing-room: she lay "
    "reclined on a sofa by the fireside, and with her darlings about her (for the time neither quarrelling "
    "nor crying) looked perfectly happy. Me, she had dispensed from joining the group; saying, \u201cShe "
    "regretted to be under the necessity of keeping me at a distance; but that until she heard from Bessie, "
    "and could discover by her own observation, that I was endeavouring in good earnest to acquire a more "
    "sociable and childlike disposition, a more attractive and sprightly manner\u2014something lighter, "
    "franker, more natural, as it were\u2014she really must exclude me from privileges intended only for "
    "contented, happy, little children.\u201d",
)

FRANKENSTEIN = (
    "St. Petersburgh, Dec. 11th, 17\u2014. To Mrs. Saville, England.",
    "You will rejoice to hear that no disaster has accompanied the commencement of an enterprise which you "
    "have regarded with such evil forebodings. I arrived here yesterday, and my first task is to assure my "
    "dear sister of my welfare and increasing confidence in the success of my undertaking.",
    "I am already far north of London, and as I walk in the streets of Petersburgh, I feel a cold northern "
    "breeze play upon my cheeks, which braces my nerves and fills me with delight. Do you understand this "
    "feeling? This breeze, which has travelled from the regions towards which I am advancing, gives me a "
    "foretaste of those icy climes. Inspirited by this wind of promise, my daydreams become more fervent and "
    "vivid. I try in vain to be persuaded that the pole is the seat of frost and desolation; it ever presents "
    "itself to my imagination as the region of beauty and delight. There, Margaret, the sun is for ever "
    "visible, its broad disk just skirting the horizon and diffusing a perpetual splendour.",
)

SCANDAL_IN_BOHEMIA = (
    "To Sherlock Holmes she is always the woman. I have seldom heard him mention her under any other name. In "
    "his eyes she eclipses and predominates the whole of her sex. It was not that he felt any emotion akin to "
    "love for Irene Adler. All emotions, and that one particularly, were abhorrent to his cold, precise but "
    "admirably balanced mind. He was, I take it, the most perfect reasoning and observing machine that the "
    "world has seen, but as a lover he would have placed himself in a false position. He never spoke of the "
    "softer passions, save with a gibe and a sneer. They were admirable things for the observer\u2014excellent "
    "for drawing the veil from men's motives and actions. But for the trained reasoner to admit such "
    "intrusions into his own delicate and finely adjusted temperament was to introduce a distracting factor "
    "which might throw a doubt upon all his mental results. Grit in a sensitive instrument, or a crack in one "
    "of his own high-power lenses, would not be more disturbing than a strong emotion in a nature such as "
    "his. And yet there was but one woman to him, and that woman was the late Irene Adler, of dubious and "
    "questionable memory.",
)

DECLARATION = (
    "When in the Course of human events, it becomes necessary for one people to dissolve the political bands "
    "which have connected them with another, and to assume among the powers of the earth, the separate and "
    "equal station to which the Laws of Nature and of Nature's God entitle them, a decent respect to the "
    "opinions of mankind requires that they should declare the causes which impel them to the separation.",
    "We hold these truths to be self-evident, that all men are created equal, that they are endowed by their "
    "Creator with certain unalienable Rights, that among these are Life, Liberty and the pursuit of "
    "Happiness.\u2014That to secure these rights, Governments are instituted among Men, deriving their just "
    "powers from the consent of the governed, \u2014That whenever any Form of Government becomes destructive "
    "of these ends, it is the Right of the People to alter or to abolish it, and to institute new Government, "
    "laying its foundation on such principles and organizing its powers in such form, as to them shall seem "
    "most likely to effect their Safety and Happiness. Prudence, indeed, will dictate that Governments long "
    "established should not be changed for light and transient causes; and accordingly all experience hath "
    "shewn, that mankind are more disposed to suffer, while evils are sufferable, than to right themselves by "
    "abolishing the forms to which they are accustomed.",
)

ALICE = (
    "Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing to do: "
    "once or twice she had peeped into the book her sister was reading, but it had no pictures or "
    "conversations in it, \u2018and what is the use of a book,\u2019 thought Alice \u2018without pictures or "
    "conversations?\u2019",
    "So she was considering in her own mind (as well as she could, for the hot day made her feel very sleepy "
    "and stupid), whether the pleasure of making a daisy-chain would be worth the trouble of getting up and "
    "picking the daisies, when suddenly a White Rabbit with pink eyes ran close by her.",
    "There was nothing so very remarkable in that; nor did Alice think it so very much out of the way to hear "
    "the Rabbit say to itself, \u2018Oh dear! Oh dear! I shall be late!\u2019 (when she thought it over "
    "afterwards, it occurred to her that she ought to have wondered at this, but at the time it all seemed "
    "quite natural); but when the Rabbit actually took a watch out of its waistcoat-pocket, and looked at it, "
    "and then hurried on, Alice started to her feet, for it flashed across her mind that she had never before "
    "seen a rabbit with either a waistcoat-pocket, or a watch to take out of it, and burning with curiosity, "
    "she ran across the field after it, and fortunately was just in time to see it pop down a large "
    "rabbit-hole under the hedge.",
)

CHRISTMAS_CAROL = (
    "Marley was dead: to begin with. There is no doubt whatever about that. The register of his burial was "
    "signed by the clergyman, the clerk, the undertaker, and the chief mourner. Scrooge signed it. And "
    "Scrooge's name was good upon \u2019Change, for anything he chose to put his hand to. Old Marley was as "
    "dead as a door-nail.",
    "Mind! I don't mean to say that I know, of my own knowledge, what there is particularly dead about a "
    "door-nail. I might have been inclined, myself, to regard a coffin-nail as the deadliest piece of "
    "ironmongery in the trade. But the wisdom of our ancestors is in the simile; and my unhallowed hands shall "
    "not disturb it, or the Country's done for. You will therefore permit me to repeat, emphatically, that "
    "Marley was as dead as a door-nail.",
    "Scrooge knew he was dead? Of course he did. How could it be otherwise? Scrooge and he were partners for "
    "I don't know how many years. Scrooge was his sole executor, his sole administrator, his sole assign, his "
    "sole residuary legatee, his sole friend, and sole mourner.",
)


# --- machine-written texts (written for this sample by an AI assistant) -------------

AI_PRODUCTIVITY = (
    "In today's fast-paced world, staying productive can feel like an uphill battle. Between endless emails, "
    "back-to-back meetings, and constant notifications, it's easy to lose focus. The good news? With a few "
    "simple strategies, you can take control of your time and accomplish more than ever before. Here are some "
    "proven tips to help you boost your productivity.",
    "1. Prioritize your tasks. Start each day by identifying your top three priorities. Tools like the "
    "Eisenhower Matrix can help you distinguish between what's urgent and what's truly important.",
    "2. Time-block your calendar. Allocating dedicated blocks of time for deep work helps minimize "
    "distractions and ensures that important tasks get the attention they deserve.",
    "3. Take regular breaks. It may seem counterintuitive, but short breaks can actually enhance focus. The "
    "Pomodoro Technique \u2014 25 minutes of work followed by a 5-minute break \u2014 is a popular and "
    "effective approach.",
    "4. Minimize distractions. Consider turning off non-essential notifications and using website blockers "
    "during focused work sessions.",
    "5. Leverage technology. From task managers to automation tools, there are countless apps designed to "
    "streamline your workflow and keep you organized.",
    "Remember, productivity isn't about doing more \u2014 it's about doing what matters most. By implementing "
    "these strategies consistently, you'll be well on your way to achieving your goals while maintaining a "
    "healthy work-life balance.",
)

AI_TRAVEL = (
    "Nestled along the banks of the Tagus River, Lisbon is a vibrant city that seamlessly blends rich history "
    "with modern charm. Whether you're a history buff, a foodie, or simply looking for a relaxing getaway, "
    "Portugal's capital has something for everyone.",
    "When to Visit: The best time to visit Lisbon is during the spring (March to May) or fall (September to "
    "October), when the weather is pleasant and the crowds are smaller.",
    "Top Attractions: No trip to Lisbon would be complete without exploring the historic Alfama district, with "
    "its narrow cobblestone streets and breathtaking viewpoints. Be sure to visit the iconic Bel\u00e9m Tower "
    "and the stunning Jer\u00f3nimos Monastery, both UNESCO World Heritage Sites.",
    "Getting Around: Lisbon's famous Tram 28 is a must-do experience, offering a scenic ride through some of "
    "the city's most charming neighborhoods. However, it can get crowded, so consider riding early in the "
    "morning.",
    "Food and Drink: Don't leave without trying a pastel de nata, the city's beloved custard tart. Pair it "
    "with a bica (espresso) for the perfect afternoon treat.",
    "In conclusion, Lisbon is a destination that truly captivates the heart. With its warm hospitality, "
    "delicious cuisine, and unforgettable sights, it's no wonder that travelers from around the world keep "
    "coming back for more.",
)

AI_REVIEW = (
    "In a market saturated with wireless earbuds, the Aurora Pro aims to stand out by offering premium "
    "features at a mid-range price. After testing them extensively, here's our comprehensive review.",
    "Design and Comfort: The Aurora Pro boasts a sleek, minimalist design that feels premium in the hand. The "
    "earbuds come with three sizes of silicone tips, ensuring a comfortable and secure fit for most users.",
    "Sound Quality: Sound quality is where the Aurora Pro truly shines. The earbuds deliver crisp highs, "
    "balanced mids, and punchy bass that will satisfy most listeners. Active noise cancellation (ANC) "
    "effectively blocks out ambient noise, making them ideal for commuting or working in busy environments.",
    "Battery Life: With up to 8 hours of playback on a single charge and an additional 24 hours from the "
    "charging case, battery life is more than adequate for daily use.",
    "Pros: Excellent sound quality; effective noise cancellation; comfortable fit; long battery life.",
    "Cons: Touch controls can be overly sensitive; no wireless charging; limited customization in the "
    "companion app.",
    "Overall, the Aurora Pro wireless earbuds offer impressive value for money. While they aren't perfect, "
    "their strong performance in key areas makes them an excellent choice for anyone looking to upgrade their "
    "listening experience without breaking the bank.",
)

AI_SLEEP = (
    "Getting a good night's sleep is essential for your overall health and well-being. Yet, millions of "
    "people struggle to get the rest they need. If you find yourself tossing and turning at night, you're not "
    "alone. Fortunately, there are several evidence-based strategies that can help you improve the quality of "
    "your sleep.",
    "Stick to a consistent schedule. Going to bed and waking up at the same time every day, even on weekends, "
    "helps regulate your body's internal clock.",
    "Create a relaxing bedtime routine. Activities such as reading, taking a warm bath, or practicing "
    "meditation can signal to your body that it's time to wind down.",
    "Limit screen time before bed. The blue light emitted by phones, tablets, and computers can interfere "
    "with the production of melatonin, the hormone that regulates sleep.",
    "Watch your caffeine intake. Caffeine can stay in your system for several hours, so it's best to avoid it "
    "in the afternoon and evening.",
    "Optimize your sleep environment. Keep your bedroom cool, dark, and quiet. Investing in a comfortable "
    "mattress and pillows can also make a significant difference.",
    "It's important to note that everyone's sleep needs are different. If you continue to experience sleep "
    "problems, it's always a good idea to consult a healthcare professional. By making small, sustainable "
    "changes to your habits, you can enjoy more restful nights and more energized days.",
)

AI_BUDGET = (
    "Managing your finances can seem overwhelming, especially if you're just starting out. However, creating "
    "a budget is one of the most effective ways to take control of your financial future. In this guide, "
    "we'll walk you through the basics of budgeting and provide practical tips to help you get started.",
    "Why Budgeting Matters: A budget allows you to understand where your money is going each month. It helps "
    "you identify areas where you can cut back, save for important goals, and avoid unnecessary debt.",
    "The 50/30/20 Rule: One popular budgeting method is the 50/30/20 rule. Under this approach, 50% of your "
    "after-tax income goes toward needs, such as rent and groceries; 30% goes toward wants, like dining out "
    "and entertainment; and 20% goes toward savings and debt repayment.",
    "Building an Emergency Fund: Financial experts generally recommend setting aside three to six months' "
    "worth of living expenses in an easily accessible account. This fund can provide a crucial safety net in "
    "case of unexpected events, such as job loss or medical emergencies.",
    "Ultimately, the key to successful budgeting is consistency. By reviewing your budget regularly and "
    "making adjustments as needed, you can build healthy financial habits that will serve you well for years "
    "to come.",
)

AI_HISTORY = (
    "The Industrial Revolution was a period of profound economic, technological, and social change that began "
    "in Great Britain in the late 18th century and later spread to other parts of the world. It marked a "
    "significant turning point in human history, transforming the way people lived and worked.",
    "Key Innovations: One of the most important developments of the era was the steam engine, which was "
    "significantly improved by James Watt in the 1760s and 1770s. Other key innovations included the spinning "
    "jenny, the power loom, and advances in iron production. These inventions revolutionized industries such "
    "as textiles, mining, and transportation.",
    "Social Impact: The Industrial Revolution led to rapid urbanization as people moved from rural areas to "
    "cities in search of work. While it created new opportunities and increased the availability of goods, it "
    "also brought about challenging working conditions, including long hours, low wages, and child labor.",
    "Lasting Legacy: The effects of the Industrial Revolution are still felt today. It laid the foundation for "
    "modern economies, spurred the growth of the middle class, and paved the way for future technological "
    "advancements.",
    "In summary, the Industrial Revolution was a complex and multifaceted period that reshaped society in "
    "countless ways. Understanding its causes and consequences can provide valuable insights into the "
    "challenges and opportunities of our own era.",
)

AI_REMOTE = (
    "The rise of remote work has transformed the modern workplace. As more companies embrace flexible "
    "arrangements, many professionals are wondering whether working from home is the right choice for them. "
    "Like any major decision, it comes with both advantages and disadvantages.",
    "The Pros: Flexibility \u2014 remote work allows employees to create schedules that fit their personal "
    "needs, leading to a better work-life balance. No commute \u2014 eliminating the daily commute saves "
    "time, money, and stress. Increased productivity \u2014 many workers report being more focused and "
    "efficient without the distractions of a traditional office.",
    "The Cons: Isolation \u2014 working from home can feel lonely, and the lack of face-to-face interaction "
    "may impact team cohesion. Blurred boundaries \u2014 without a clear separation between work and home, it "
    "can be challenging to switch off at the end of the day. Communication challenges \u2014 collaborating "
    "across time zones and digital platforms can sometimes lead to misunderstandings.",
    "Finding the Right Balance: For many, a hybrid model offers the best of both worlds, combining the "
    "flexibility of remote work with the social benefits of the office.",
    "Ultimately, whether remote work is right for you depends on your individual preferences, job "
    "requirements, and personal circumstances. By carefully weighing the pros and cons, you can make an "
    "informed decision that supports both your career goals and your well-being.",
)

AI_GARDENING = (
    "Starting a vegetable garden is a rewarding and enjoyable way to connect with nature, improve your health, "
    "and save money on groceries. Whether you have a spacious backyard or a small balcony, anyone can grow "
    "their own food with a little planning and care.",
    "Step 1: Choose the Right Location. Most vegetables need at least six to eight hours of direct sunlight "
    "per day. Look for a spot that receives plenty of sun and has good drainage.",
    "Step 2: Prepare the Soil. Healthy soil is the foundation of a successful garden. Consider adding compost "
    "or organic matter to improve soil structure and provide essential nutrients.",
    "Step 3: Select Beginner-Friendly Plants. Some vegetables are easier to grow than others. Tomatoes, "
    "lettuce, zucchini, radishes, and herbs like basil are excellent choices for first-time gardeners.",
    "Step 4: Water Consistently. Most plants need about an inch of water per week. Watering early in the "
    "morning helps reduce evaporation and prevents fungal diseases.",
    "Remember, gardening is a journey, not a destination. Don't be discouraged by setbacks \u2014 every season "
    "is an opportunity to learn and grow. With patience and dedication, you'll soon be enjoying the fruits "
    "(and vegetables) of your labor.",
)

AI_MEDITATION = (
    "In our increasingly busy and stressful lives, finding moments of peace can be a challenge. Meditation "
    "offers a powerful solution, providing a wide range of benefits for both the mind and body. Whether "
    "you're a complete beginner or have some experience, incorporating meditation into your daily routine can "
    "be truly transformative.",
    "1. Reduces Stress: One of the most well-known benefits of meditation is its ability to reduce stress. By "
    "focusing on the present moment, meditation helps calm the mind and lower levels of cortisol, the body's "
    "primary stress hormone.",
    "2. Improves Focus and Concentration: Regular meditation practice can enhance your attention span and "
    "improve cognitive performance, making it easier to stay focused on tasks throughout the day.",
    "3. Promotes Emotional Well-Being: Meditation can foster a more positive outlook on life and help manage "
    "symptoms of anxiety and depression.",
    "4. Enhances Self-Awareness: Through mindfulness, you can develop a deeper understanding of yourself, your "
    "thoughts, and your emotions.",
    "Getting started is easier than you might think. Begin with just five minutes a day, find a quiet space, "
    "and focus on your breath. Over time, you can gradually increase the duration of your sessions. Remember, "
    "consistency is key!",
)


def _edit(paragraphs: Sequence[str], *replacements: tuple[str, str]) -> tuple[str, ...]:
    """A near-duplicate: each ``(old, new)`` replaced exactly once somewhere in the text."""
    out = list(paragraphs)
    for old, new in replacements:
        hits = [i for i, p in enumerate(out) if old in p]
        if len(hits) != 1 or out[hits[0]].count(old) != 1:
            raise ValueError(f"near-dup edit {old!r} must match exactly once")
        out[hits[0]] = out[hits[0]].replace(old, new)
    return tuple(out)


_LM = (("Last-Modified", "Thu, 02 Mar 2017 11:20:00 GMT"),)
_BOOKS_NAV = ("Home", "Authors", "Titles", "Speeches", "Search", "Help")
_FARM_NAV = ("Home", "Trending", "Lifestyle", "Money", "Health", "Travel", "Deals")

_H = "human"
_HUMAN_KEPT = "kept as human (captured before the cutoff)"
_AI = "ai_generated (AI filter)"

PAGES: tuple[Page, ...] = (
    # --- 12 human originals, captured 2019-2021 ------------------------------------
    Page("gettysburg", "https://www.gutenberg-mirror.example/speeches/lincoln/gettysburg-address.html",
         "2019-11-19T14:02:11Z", _H, "original", "The Gettysburg Address", GETTYSBURG,
         source="Abraham Lincoln, Gettysburg Address (1863), Bliss copy, complete",
         expect_tier="captured", expect=_HUMAN_KEPT, author="Abraham Lincoln",
         site_name="Gutenberg Mirror", nav=_BOOKS_NAV, http_headers=_LM),
    Page("second-inaugural", "https://www.gutenberg-mirror.example/speeches/lincoln/second-inaugural.html",
         "2019-11-19T14:05:40Z", _H, "original", "Second Inaugural Address", SECOND_INAUGURAL,
         source="Abraham Lincoln, Second Inaugural Address (1865): first and last two paragraphs",
         expect_tier="captured", expect=_HUMAN_KEPT, author="Abraham Lincoln",
         site_name="Gutenberg Mirror", nav=_BOOKS_NAV, http_headers=_LM),
    Page("pride-and-prejudice", "https://www.gutenberg-mirror.example/austen/pride-and-prejudice/chapter-1.html",
         "2020-01-28T08:44:03Z", _H, "original", "Pride and Prejudice \u2014 Chapter 1", PRIDE_AND_PREJUDICE,
         source="Jane Austen, Pride and Prejudice (1813), ch. 1, opening",
         expect_tier="captured", expect=_HUMAN_KEPT, author="Jane Austen",
         site_name="Gutenberg Mirror", nav=_BOOKS_NAV),
    Page("two-cities", "https://classics.example.org/2020/06/03/a-tale-of-two-cities-opening",
         "2020-06-05T17:21:30Z", _H, "original", "A Tale of Two Cities: The Period", TALE_OF_TWO_CITIES,
         source="Charles Dickens, A Tale of Two Cities (1859), book 1 ch. 1, opening",
         expect_tier="captured", expect=_HUMAN_KEPT, author="Charles Dickens",
         published="2020-06-03T07:30:00+00:00", jsonld=True, site_name="Classics Daily"),
    Page("moby-dick", "https://www.gutenberg-mirror.example/melville/moby-dick/chapter-1-loomings.html",
         "2019-10-18T22:10:09Z", _H, "original", "Moby-Dick \u2014 Chapter 1. Loomings", MOBY_DICK,
         source="Herman Melville, Moby-Dick (1851), ch. 1 \u201cLoomings\u201d, first paragraph",
         expect_tier="captured", expect=_HUMAN_KEPT, author="Herman Melville",
         site_name="Gutenberg Mirror", nav=_BOOKS_NAV),
    Page("walden", "https://classics.example.org/2019/05/12/walden-economy",
         "2019-05-14T03:12:45Z", _H, "original", "Walden: Economy", WALDEN,
         source="Henry David Thoreau, Walden (1854), \u201cEconomy\u201d, first two paragraphs",
         expect_tier="captured", expect=_HUMAN_KEPT, author="Henry David Thoreau",
         published="2019-05-12T06:00:00-04:00", time_tag=True, site_name="Classics Daily"),
    Page("darwin", "https://www.natural-history-texts.example/darwin/origin-of-species/chapter-1",
         "2021-01-07T10:55:02Z", _H, "original", "On the Origin of Species \u2014 Variation under Domestication",
         DARWIN, source="Charles Darwin, On the Origin of Species (1859, 1st ed.), ch. I, opening",
         expect_tier="captured", expect=_HUMAN_KEPT, author="Charles Darwin",
         published="2020-12-30", jsonld=True, site_name="Natural History Texts"),
    Page("federalist-10", "https://www.founders-library.example/federalist/no-10",
         "2020-09-17T19:40:27Z", _H, "original", "The Federalist No. 10", FEDERALIST_10,
         source="James Madison, The Federalist No. 10 (1787), first two paragraphs",
         expect_tier="captured", expect=_HUMAN_KEPT, author="James Madison",
         published="2015-11-22T00:00:00Z", modified="2019-02-01T00:00:00Z", site_name="Founders Library"),
    Page("huck-finn", "https://classics.example.org/2021/02/20/huckleberry-finn-chapter-one",
         "2021-02-21T09:03:58Z", _H, "original", "Adventures of Huckleberry Finn, Chapter I", HUCKLEBERRY_FINN,
         source="Mark Twain, Adventures of Huckleberry Finn (1884), ch. I, opening",
         expect_tier="captured", expect=_HUMAN_KEPT, author="Mark Twain",
         published="2021-02-20T08:00:00Z", site_name="Classics Daily"),
    Page("three-men", "https://www.humour-classics.example/jerome/three-men-in-a-boat/chapter-1",
         "2020-04-11T12:30:00Z", _H, "original", "Three Men in a Boat \u2014 Chapter I", THREE_MEN_IN_A_BOAT,
         source="Jerome K. Jerome, Three Men in a Boat (1889), ch. I, opening",
         expect_tier="captured", expect=_HUMAN_KEPT, site_name="Humour Classics"),
    Page("jane-eyre", "https://www.gutenberg-mirror.example/bronte/jane-eyre/chapter-1.html",
         "2021-03-02T06:18:44Z", _H, "original", "Jane Eyre \u2014 Chapter I", JANE_EYRE,
         source="Charlotte Bront\u00eb, Jane Eyre (1847), ch. I, opening",
         expect_tier="captured", expect=_HUMAN_KEPT, author="Charlotte Bront\u00eb",
         site_name="Gutenberg Mirror", nav=_BOOKS_NAV),
    Page("frankenstein", "https://classics.example.org/2021/10/31/frankenstein-letter-one",
         "2021-11-02T15:47:13Z", _H, "original", "Frankenstein: Letter 1", FRANKENSTEIN,
         source="Mary Shelley, Frankenstein (1818), Letter 1, opening",
         expect_tier="captured", expect=_HUMAN_KEPT, author="Mary Shelley",
         published="2021-10-31T12:00:00Z", jsonld=True, time_tag=True, site_name="Classics Daily"),

    # --- 4 human pages captured in 2024 -----------------------------------------------
    Page("scandal-in-bohemia", "https://www.bakerstreet-readers.example/2016/04/02/a-scandal-in-bohemia-opening/",
         "2024-02-14T11:09:26Z", _H, "claimed-date", "A Scandal in Bohemia: the woman", SCANDAL_IN_BOHEMIA,
         source="Arthur Conan Doyle, A Scandal in Bohemia (1891), opening paragraph",
         expect_tier="claimed", expect="claimed tier (URL date + published 2016): kept with --trust claimed; "
                                       "otherwise the AI filter decides",
         author="Arthur Conan Doyle", published="2016-04-02T09:15:00+00:00", jsonld=True,
         site_name="Baker Street Readers"),
    Page("declaration", "https://www.founding-texts.example/blog/2016/07/04/declaration-preamble",
         "2024-03-03T20:14:51Z", _H, "claimed-date", "The Declaration of Independence: the preamble", DECLARATION,
         source="Declaration of Independence (1776), first two paragraphs (to \u201caccustomed\u201d)",
         expect_tier="claimed", expect="claimed tier (URL date + published 2016): kept with --trust claimed; "
                                       "otherwise the AI filter decides",
         published="2016-07-04", time_tag=True, site_name="Founding Texts"),
    Page("alice", "https://www.wonderland-notes.example/2017/08/19/alice-down-the-rabbit-hole/",
         "2024-04-10T07:33:05Z", _H, "modified-after-cutoff", "Down the Rabbit-Hole", ALICE,
         source="Lewis Carroll, Alice's Adventures in Wonderland (1865), ch. I, opening",
         expect_tier="none", expect="NOT claimed (article:modified_time 2023 contradicts the 2017 dates); "
                                    "the AI filter decides",
         author="Lewis Carroll", published="2017-08-19T10:00:00Z", modified="2023-06-02T14:30:00Z",
         site_name="Wonderland Notes"),
    Page("christmas-carol", "https://www.victorian-fiction.example/dickens/a-christmas-carol/stave-one",
         "2024-05-21T16:02:40Z", _H, "original", "A Christmas Carol \u2014 Stave One: Marley's Ghost",
         CHRISTMAS_CAROL, source="Charles Dickens, A Christmas Carol (1843), Stave One, opening",
         expect_tier="none", expect="no date evidence (tier none); the AI filter decides",
         author="Charles Dickens", site_name="Victorian Fiction"),

    # --- 3 exact duplicates (same text, other site/chrome, captured later) ------------
    Page("gettysburg-copy", "https://www.civil-war-quotes.example/texts/gettysburg",
         "2022-02-12T13:13:13Z", _H, "exact-dup", "The Gettysburg Address", GETTYSBURG, dup_of="gettysburg",
         source="= gettysburg", expect_tier="captured", expect="exact_duplicate of gettysburg",
         author="Abraham Lincoln", site_name="Civil War Quotes", nav=("Home", "Battles", "Letters", "Quotes")),
    Page("pride-and-prejudice-copy", "https://readfree-classics.example/austen/pride-and-prejudice/1",
         "2023-07-09T04:45:19Z", _H, "exact-dup", "Pride and Prejudice \u2014 Chapter 1", PRIDE_AND_PREJUDICE,
         dup_of="pride-and-prejudice", source="= pride-and-prejudice", expect_tier="none",
         expect="exact_duplicate of pride-and-prejudice", author="Jane Austen", site_name="ReadFree Classics",
         nav=("Home", "Romance", "Adventure", "Poetry", "Log in")),
    Page("moby-dick-copy", "https://www.sea-stories.example/melville/moby-dick-loomings",
         "2024-06-30T23:51:08Z", _H, "exact-dup", "Moby-Dick \u2014 Chapter 1. Loomings", MOBY_DICK,
         dup_of="moby-dick", source="= moby-dick", expect_tier="none", expect="exact_duplicate of moby-dick",
         author="Herman Melville", site_name="Sea Stories", nav=("Home", "Whaling", "Pirates", "Shipwrecks")),

    # --- 3 near duplicates (a few words changed + one extra line in the article) -------
    Page("walden-variant", "https://www.simple-living-archive.example/thoreau/walden-economy-excerpt",
         "2024-01-22T08:27:36Z", _H, "near-dup", "Walden: Economy",
         _edit(WALDEN, ("a mile from any neighbor", "a full mile from any neighbor"),
               ("I lived there two years", "I lived there for two years"),
               ("very natural and pertinent", "quite natural and pertinent")),
         dup_of="walden", source="~ walden (3 edits)", expect_tier="none", expect="near duplicate of walden",
         author="Henry David Thoreau", site_name="Simple Living Archive",
         article_header="From the first chapter of Walden, \u201cEconomy\u201d."),
    Page("federalist-10-variant", "https://constitution-study.example/federalist/10",
         "2023-02-11T17:05:52Z", _H, "near-dup", "The Federalist No. 10",
         _edit(FEDERALIST_10, ("more accurately developed", "more carefully developed"),
               ("this dangerous vice", "this most dangerous vice"),
               ("too much admired", "too highly admired")),
         dup_of="federalist-10", source="~ federalist-10 (3 edits)", expect_tier="none",
         expect="near duplicate of federalist-10", author="James Madison", site_name="Constitution Study",
         article_footer="Text of The Federalist No. 10, by James Madison; study notes follow in part two."),
    Page("jane-eyre-variant", "https://www.brontes-online.example/jane-eyre/chapter-one",
         "2024-08-08T12:12:01Z", _H, "near-dup", "Jane Eyre \u2014 Chapter I",
         _edit(JANE_EYRE, ("the cold winter wind", "the bitter winter wind"),
               ("I never liked long walks", "I never did like long walks"),
               ("looked perfectly happy", "looked quite perfectly happy")),
         dup_of="jane-eyre", source="~ jane-eyre (3 edits)", expect_tier="none",
         expect="near duplicate of jane-eyre", author="Charlotte Bront\u00eb", site_name="Brontes Online",
         article_header="Chapter I \u2014 Gateshead Hall."),

    # --- 8 machine-written pages, captured 2024 on content-farm URLs -----------------
    Page("ai-productivity", "https://www.top10-lifehacks.example/productivity-tips-supercharge-your-workday",
         "2024-01-09T05:40:11Z", "ai", "original", "5 Proven Productivity Tips to Supercharge Your Workday",
         AI_PRODUCTIVITY, source="AI-written for this sample", expect=_AI,
         site_name="Top10 LifeHacks", nav=_FARM_NAV, published="2024-01-08T09:00:00Z"),
    Page("ai-travel", "https://best-travel-guides-now.example/lisbon-travel-guide-everything-you-need-to-know",
         "2024-02-27T14:18:37Z", "ai", "original", "The Ultimate Guide to Exploring Lisbon", AI_TRAVEL,
         source="AI-written for this sample", expect=_AI, site_name="Best Travel Guides Now", nav=_FARM_NAV,
         published="2024-02-20T00:00:00Z", jsonld=True),
    Page("ai-review", "https://www.gadget-verdict-hub.example/2024/03/15/aurora-pro-earbuds-review/",
         "2024-03-19T09:00:46Z", "ai", "original", "Aurora Pro Wireless Earbuds Review: Are They Worth the Hype?",
         AI_REVIEW, source="AI-written for this sample", expect=_AI, site_name="Gadget Verdict Hub",
         nav=_FARM_NAV, published="2024-03-15T10:00:00Z", time_tag=True),
    Page("ai-sleep", "https://healthy-living-tips-daily.example/improve-your-sleep-7-science-backed-tips",
         "2024-04-02T22:36:14Z", "ai", "original", "How to Improve Your Sleep: 7 Science-Backed Tips", AI_SLEEP,
         source="AI-written for this sample", expect=_AI, site_name="Healthy Living Tips Daily", nav=_FARM_NAV),
    Page("ai-budget", "https://www.smart-money-guide-pro.example/budgeting-101-beginners-guide",
         "2024-05-13T18:21:09Z", "ai", "original", "Budgeting 101: A Beginner's Guide to Managing Your Money",
         AI_BUDGET, source="AI-written for this sample", expect=_AI, site_name="Smart Money Guide Pro",
         nav=_FARM_NAV),
    Page("ai-history", "https://www.history-facts-explained.example/industrial-revolution-brief-overview",
         "2024-06-07T03:49:55Z", "ai", "original", "The Industrial Revolution: A Brief Overview", AI_HISTORY,
         source="AI-written for this sample", expect=_AI, site_name="History Facts Explained", nav=_FARM_NAV,
         published="2024-06-01T00:00:00Z", jsonld=True),
    Page("ai-remote-work", "https://career-boost-insights.example/remote-work-pros-and-cons",
         "2024-07-16T11:11:29Z", "ai", "original", "Remote Work: Weighing the Pros and Cons", AI_REMOTE,
         source="AI-written for this sample", expect=_AI, site_name="Career Boost Insights", nav=_FARM_NAV),
    Page("ai-gardening", "https://www.green-thumb-guides-4u.example/gardening-for-beginners-step-by-step",
         "2024-09-03T07:07:07Z", "ai", "original",
         "Gardening for Beginners: A Step-by-Step Guide to Growing Your First Vegetables", AI_GARDENING,
         source="AI-written for this sample", expect=_AI, site_name="Green Thumb Guides 4U", nav=_FARM_NAV),

    # --- spam faking an old date --------------------------------------------------------
    Page("ai-spam-old-date", "https://www.mindful-living-hub.example/2018/03/05/benefits-of-meditation/",
         "2024-10-11T13:58:20Z", "ai", "spam-date", "The Amazing Benefits of Meditation: Why You Should Start Today",
         AI_MEDITATION, source="AI-written for this sample", expect_tier="claimed",
         expect="claimed tier by its FAKE 2018 dates (URL + article:published_time): why the default trust is "
                "'captured'; the AI filter should reject it (ai_generated)",
         site_name="Mindful Living Hub", nav=_FARM_NAV, published="2018-03-05T08:00:00+00:00", jsonld=True),

    # --- not documents ---------------------------------------------------------------------
    Page("png", "https://www.gutenberg-mirror.example/static/img/cover-thumb.png",
         "2019-11-19T14:02:12Z", "n/a", "binary", payload=tiny_png(16, 16, (120, 80, 40)),
         content_type="image/png", source="generated 16x16 PNG", expect="binary_content (reader)"),
    Page("not-found", "https://www.gutenberg-mirror.example/austen/emma/chapter-99.html",
         "2020-01-28T08:44:09Z", "n/a", "404", status=404,
         payload=html_page("Page not found", ["Sorry, the page you were looking for does not exist.",
                                              "Try the search box or go back to the home page."],
                           site_name="Gutenberg Mirror", nav=_BOOKS_NAV).encode("utf-8"),
         source="-", expect="non_200_status (reader)"),
)


def sample_records(pages: Sequence[Page] = PAGES) -> list[bytes]:
    """warcinfo, then (request, response) per page, in capture order as a crawler writes them."""
    ordered = sorted(pages, key=lambda p: (p.captured, p.url))
    records = [warcinfo_record(
        warc_date=ordered[0].captured, filename=WARC_FILENAME,
        fields={"description": "provsieve bundled sample crawl: synthetic, see pipeline/sample/SAMPLE.md",
                "isPartOf": "provsieve-sample", "robots": "obey",
                "http-header-user-agent": "Mozilla/5.0 (compatible; provsieve-fixtures/1.0)"})]
    for page in ordered:
        response_id = record_id_for("response", page.url, page.captured)
        records.append(request_record(page.url, warc_date=page.captured, concurrent_to=response_id))
        records.append(http_response_record(page.url, page.body(), warc_date=page.captured,
                                            content_type=page.content_type, status=page.status,
                                            extra_http_headers=list(page.http_headers) or None,
                                            record_id=response_id))
    return records


def _word_count(page: Page) -> str:
    if page.payload is not None:
        return "-"
    return str(sum(len(p.split()) for p in page.paragraphs))


def manifest_text(pages: Sequence[Page] = PAGES) -> str:
    counts: dict[str, int] = {}
    for p in pages:
        counts[p.role] = counts.get(p.role, 0) + 1
    labels: dict[str, int] = {}
    for p in pages:
        labels[p.label] = labels.get(p.label, 0) + 1
    lines = [
        "# The bundled sample crawl: intended ground truth",
        "",
        "<!-- Generated by tests/make_sample.py together with sample.warc.gz: edit that script, not this file. -->",
        "",
        f"`sample.warc.gz` is a small synthetic crawl (one gzip member per record): one `warcinfo` record, "
        f"then a `request` and a `response` record for each of the {len(pages)} pages below, in capture order. "
        f"Cutoff: {CUTOFF} (pages captured before it are provably human). Regenerate with "
        "`python tests/make_sample.py`; `tests/test_sample.py` checks the committed file is byte-identical.",
        "",
        "*label*: who wrote the text (`human`: public-domain text; `ai`: written for this sample by an AI "
        "assistant). *role*: what the page is there to exercise. *tier*: the intended `pre_cutoff_evidence`. "
        "*words*: words of article text.",
        "",
        "| # | key | URL | label | captured (WARC-Date) | role | tier | words | page dates | intended outcome |",
        "|---|-----|-----|-------|----------------------|------|------|-------|------------|------------------|",
    ]
    for i, p in enumerate(sorted(pages, key=lambda p: (p.captured, p.url)), 1):
        dates = []
        if p.published:
            dates.append(f"published {p.published}")
        if p.modified:
            dates.append(f"modified {p.modified}")
        if p.http_headers:
            dates.extend(f"{k} {v}" for k, v in p.http_headers)
        flags = [f for f, on in (("JSON-LD", p.jsonld), ("&lt;time&gt;", p.time_tag)) if on and (p.published or p.modified)]
        dates_cell = "; ".join(dates) + (f" ({', '.join(flags)})" if flags else "") if dates else "-"
        if p.status != 200:
            dates_cell = f"HTTP {p.status}"
        lines.append(f"| {i} | {p.key} | {p.url} | {p.label} | {p.captured} | {p.role} | "
                     f"{p.expect_tier if p.payload is None else '-'} | {_word_count(p)} | {dates_cell} | {p.expect} |")
    lines += ["", "## Counts", "", "| role | pages |", "|------|-------|"]
    lines += [f"| {role} | {counts.get(role, 0)} |" for role in ROLES]
    lines += [f"| **total** | {len(pages)} |", "", "| label | pages |", "|-------|-------|"]
    lines += [f"| {label} | {labels.get(label, 0)} |" for label in LABELS]
    lines += ["", "## Sources of the human texts", "",
              "All public domain; faithful excerpts (the near-duplicates alter a few words on purpose).", ""]
    for p in pages:
        if p.label == "human" and p.role not in ("exact-dup", "near-dup"):
            lines.append(f"- `{p.key}`: {p.source}")
    lines += ["", "## Notes", "",
              "- Duplicates are captured *later* than their originals, so de-duplication must keep the original "
              "(oldest evidence of existence).",
              "- `modified-after-cutoff` has URL and published dates in 2017 but `article:modified_time` in 2023: "
              "the claim is contradicted and must not be granted.",
              "- `spam-date` shows that the `claimed` tier can be faked; it is why `--trust captured` is the default.",
              "- The 2019-2021 pages with Last-Modified carry a stale date (2017), a weak claim irrelevant to "
              "captured pages.",
              ""]
    return "\n".join(lines)


def build_sample(warc_path: os.PathLike | str = DEFAULT_WARC,
                 manifest_path: os.PathLike | str | None = DEFAULT_MANIFEST) -> list[int]:
    """Write the sample WARC (and, unless ``manifest_path`` is None, SAMPLE.md); return record offsets."""
    offsets = write_warc(warc_path, sample_records(), compression="gzip")
    if manifest_path is not None:
        Path(manifest_path).write_text(manifest_text(), encoding="utf-8", newline="\n")
    return offsets


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(DEFAULT_WARC), help="WARC path (default: %(default)s)")
    parser.add_argument("--manifest", default=str(DEFAULT_MANIFEST), help="SAMPLE.md path (default: %(default)s)")
    args = parser.parse_args(argv)
    offsets = build_sample(args.out, args.manifest)
    print(f"wrote {args.out}: {len(offsets)} records, {os.path.getsize(args.out)} bytes; {args.manifest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
