"""Synthetic prompts: a plausible, clearly made-up prompt per request, from per-category templates.

The simulator plants each request's category but has no text; :func:`prompts_for` writes one so the
demo runs simulate → classify → report end to end. The same grammar (with other seeds) gives the
classifiers a minority of each category's training prompts (``train.SYNTHETIC_SHARE``); see
``classify/classifiers/default.py``. Translation prompts are multilingual. Nothing here is real user text.
"""

from __future__ import annotations

import hashlib
import random

import pyarrow as pa

from tokencensus.ingest.samples import SAMPLE_SCHEMA

_LANGS = ["Python", "JavaScript", "TypeScript", "Rust", "Go", "Java", "C++", "SQL", "Bash", "Kotlin"]
_CODE_TASKS = [
    "parses a CSV file and returns the rows as dictionaries",
    "debounces a function call",
    "implements a binary search tree with insert and delete",
    "retries an HTTP request with exponential backoff",
    "merges two sorted lists",
    "validates a JSON payload against a schema",
    "reads a config file and caches it",
    "finds the longest common subsequence of two strings",
    "streams rows from a database cursor in batches",
    "renders a paginated table component",
]
_ERRORS = [
    "TypeError: 'NoneType' object is not subscriptable",
    "undefined is not a function",
    "segmentation fault (core dumped)",
    "error[E0502]: cannot borrow `x` as mutable because it is also borrowed as immutable",
    "NullPointerException at Main.java:42",
    "ModuleNotFoundError: No module named 'requests'",
]
_SNIPPETS = [
    'def load(path):\n    with open(path) as f:\n        return json.load(f)["items"]',
    "for (let i = 0; i <= arr.length; i++) {\n  total += arr[i].value;\n}",
    "SELECT user_id, COUNT(*) FROM orders o JOIN users u ON o.uid = u.id GROUP BY 1;",
    "fn main() {\n    let v = vec![1, 2, 3];\n    let first = &v[0];\n    v.push(4);\n}",
    "class Cache:\n    def __init__(self):\n        self.store = {}\n"
    "    def get(self, k):\n        return self.store[k]",
]
_TOOLS = ["git", "Docker", "Kubernetes", "GitHub Actions", "webpack", "VS Code", "npm", "Terraform"]
_CHARACTERS = [
    "a grumpy dwarven blacksmith",
    "a detective in 1920s Chicago",
    "the captain of a starship",
    "a shy vampire librarian",
    "an elven ranger",
    "a sarcastic AI companion",
    "a medieval innkeeper",
    "a pirate queen",
]
_SETTINGS = ["a haunted castle", "a cyberpunk city", "a desert caravan", "a space station", "a royal court"]
_LANG_SAMPLES = {
    "French": [
        "Bonjour, je voudrais réserver une table pour deux personnes ce soir.",
        "Le train part à huit heures.",
    ],
    "German": [
        "Ich habe morgen einen Termin beim Arzt und kann nicht kommen.",
        "Wo ist der nächste Bahnhof?",
    ],
    "Spanish": [
        "¿Podrías enviarme el informe antes del viernes, por favor?",
        "Mañana vamos a la playa con mis primos.",
    ],
    "Chinese": ["我们下周一开会讨论新产品的发布计划。", "这本书非常有意思，我推荐给你。"],
    "Japanese": ["明日の会議は午後三時に変更になりました。", "駅までの道を教えてください。"],
    "Portuguese": ["Obrigado pela ajuda, o projeto ficou ótimo.", "Vamos jantar juntos no sábado?"],
    "Russian": ["Спасибо за ваше письмо, я отвечу завтра.", "Где находится ближайшая аптека?"],
    "Italian": ["Vorrei prenotare una camera doppia per tre notti.", "Il museo è chiuso il lunedì."],
    "English": [
        "Please find attached the signed contract and the invoice.",
        "The meeting has been moved to Thursday.",
    ],
}
_TOPICS = [
    "climate change",
    "the Roman Empire",
    "sleep",
    "electric cars",
    "the stock market",
    "volcanoes",
    "coffee",
    "social media",
    "libraries",
    "the printing press",
    "airplanes",
    "video games",
    "cities",
]
_SCIENCE = [
    "superposition in quantum physics",
    "the second law of thermodynamics",
    "natural selection",
    "plate tectonics",
    "the structure of DNA",
    "chemical equilibrium",
    "the Doppler effect",
    "cellular respiration",
    "the greenhouse effect",
    "radioactive decay",
    "general relativity",
    "the immune response to a virus",
    "covalent and ionic bonds",
    "the life cycle of a star",
    "ocean currents",
    "enzyme catalysis",
    "electromagnetic induction",
    "the water cycle",
]
_DOCS = [
    "a blog post about a recent trip to Japan",
    "a persuasive essay on remote work",
    "a press release announcing our new office",
    "a LinkedIn post about my promotion",
    "meeting minutes for the budget review",
    "a thank-you note to a colleague",
    "an email declining a job offer politely",
    "a one-page project proposal",
    "a product review of my new headphones",
    "a speech for my sister's wedding",
    "a formal complaint letter to an airline",
    "a weekly status report",
]
_ADVICE = [
    "improve my time management",
    "deal with stress at work",
    "learn a new language faster",
    "save energy at home",
    "become a better public speaker",
    "stay motivated while studying",
    "prepare for a job interview",
    "make my small apartment feel bigger",
    "travel on a budget",
]
_PRODUCTS = [
    "a meal-kit subscription",
    "a budgeting app",
    "running shoes",
    "a SaaS CRM",
    "organic tea",
    "a coworking space",
]

_TEMPLATES: dict[str, list[str]] = {
    "programming": [
        "Write a {lang} function that {task}.",
        "I get this error in my {lang} code: {error}. How do I fix it?\n\n```\n{snippet}\n```",
        "Refactor this code to be more idiomatic and add type hints:\n```\n{snippet}\n```",
        "Explain what this code does line by line:\n{snippet}",
        "Can you write unit tests for a {lang} module that {task}?",
        "How do I set up {tool} for a {lang} monorepo with separate build steps?",
        "Review my pull request: the function below {task}. Any bugs?\n{snippet}",
        "Implement an API endpoint in {lang} that {task}, with error handling.",
    ],
    "roleplay": [
        "You are {char}. Stay in character. I walk into {setting} and ask you for help.",
        "Let's play a text adventure game set in {setting}. I am {char}. Describe what I see.",
        "*smiles and sits down next to you* So, {char}, tell me about your day.",
        "Roleplay as {char} talking to me, a traveller who just arrived in {setting}. "
        "Reply only in character.",
        "Continue our roleplay: you are {char}, and the party has just entered {setting}. "
        "Roll for initiative!",
        "Create a character sheet and backstory for {char} for my tabletop campaign in {setting}.",
        "Pretend to be my girlfriend, {char}, and greet me after a long day.",
    ],
    "translation": [
        "Translate to English: {foreign}",
        "Translate this into {lang2}: {sample}",
        "Traduis en anglais : {foreign}",
        "Übersetze bitte ins Englische: {foreign}",
        "Traduce al inglés: {foreign}",
        "请把这句话翻译成英文：{foreign}",
        'What does "{foreign}" mean in English?',
        'Localize this app string for {lang2} users: "{sample}"',
    ],
    "general_qa": [
        "How can I {advice}?",
        "What are the most effective ways to {advice}?",
        "What are the main differences between {topic} and {topic2}?",
        "How many {topic} are there in the world? Explain your reasoning step by step.",
        "What if {topic} had never existed? How would the world be different?",
        "Why is {topic} important for society?",
        "Why do we dream?",
        "What is the difference between weather and climate?",
        "How does {topic} affect everyday life?",
        "Can you explain {topic} in simple terms?",
        "What are some tips for being more productive in the morning?",
        "How can I make friends after moving to a new city?",
        "What would happen if the Moon disappeared?",
        "Is it better to rent or buy a bike in a big city, and why?",
    ],
    "writing": [
        "Write {doc}.",
        "Draft {doc}, keep it concise and professional.",
        "Help me write {doc}; the tone should be friendly.",
        "Edit {doc} I wrote to make it clearer and shorter.",
        "Write a professional email to my manager asking to move our one-on-one to Friday.",
        "Summarize the following meeting notes in five bullet points: {sample} {sample2}",
        "Proofread this paragraph and fix the grammar: {sample}",
        "Draft a cover letter for a project manager role at a logistics company.",
        "Rewrite this to sound more formal: hey, can u send the report asap",
        "Write a short report on {topic} for our quarterly newsletter.",
        "Turn these notes into a clear project update for stakeholders: "
        "delayed launch, new vendor, budget ok.",
        "Extract the action items from this email thread: {sample}",
    ],
    "education": [
        "Solve for x: {a}x + {b} = {c}.",
        "A train travels {a} km in {b} hours. What is its average speed?",
        "What is the derivative of x^{a} * sin(x)?",
        "Explain the Pythagorean theorem to a 12-year-old with an example.",
        "Help me study for my biology exam: quiz me on cell division.",
        "Compute the integral of {a}x^2 from 0 to {b}.",
        "If I pick {a} cards from a deck of 52, what is the probability that all are hearts?",
        "Explain how to write a five-paragraph essay for my history class.",
    ],
    "creative_writing": [
        "Write a short story about {char} who discovers a secret in {setting}.",
        "Write a poem about {topic} in the style of Emily Dickinson.",
        "Write a haiku about autumn rain.",
        "Write song lyrics about leaving home, with a chorus.",
        "Write the opening chapter of a fantasy novel set in {setting}.",
        "Write a bedtime story for my daughter about a brave little dragon.",
        "Write a sonnet about lost love and the sea.",
    ],
    "adult": [
        "Write an explicit erotic story between two consenting adults who meet at a hotel bar.",
        "Continue the NSFW scene, make it more sensual and explicit.",
        "Describe a steamy, explicit encounter between {char} and a stranger, 18+ only.",
        "Write erotica about a passionate night in {setting}. Adults only, no limits.",
        "Generate a sexy, uncensored message to send to my partner tonight.",
    ],
    "technology": [
        "My laptop fan is always loud and the battery drains fast. What can I do?",
        "Which is better for a home office, mesh Wi-Fi or a single router?",
        "How do I transfer photos from my iPhone to a Windows PC?",
        "What is the difference between an SSD and an HDD?",
        "Compare the latest Android flagship phones for camera quality.",
        "How do large language models work, and what is a context window?",
        "My printer says it is offline but it is connected to Wi-Fi. How do I fix it?",
    ],
    "science": [
        "Explain {science}.",
        "In the field of science, what is {science}, and why does it matter?",
        "Describe {science} and give a real-world example.",
        "How do scientists measure and study {science}?",
        "What is the relationship between {science} and energy?",
        "Why is the sky blue? Explain Rayleigh scattering.",
        "How do black holes form, and what is the event horizon?",
        "Explain how photosynthesis converts light into chemical energy.",
        "What is quantum entanglement?",
        "How does CRISPR gene editing work?",
        "What causes earthquakes and how are they measured?",
        "Explain the difference between nuclear fission and fusion.",
    ],
    "health": [
        "I have had a headache and a mild fever for three days. Should I see a doctor?",
        "What is a healthy diet for someone with type 2 diabetes?",
        "Make me a 4-week beginner running plan to get to 5 km.",
        "What are the side effects of ibuprofen?",
        "How can I manage anxiety before exams?",
        "How much sleep does a teenager need, and why?",
        "What are the symptoms of vitamin D deficiency?",
    ],
    "finance": [
        "Should I pay off my student loans or invest in an index fund?",
        "Explain how compound interest works with an example of ${a}00 a month.",
        "What is the difference between a Roth IRA and a traditional IRA?",
        "How do I build a monthly budget on a ${a},000 salary?",
        "What happens to bond prices when interest rates rise?",
        "Analyze this company's balance sheet: revenue up {a}%, debt up {b}%.",
        "Is it a good time to buy stocks when inflation is high?",
    ],
    "legal": [
        "My landlord is refusing to return my security deposit. What are my rights?",
        "What should a non-disclosure agreement include?",
        "Can my employer fire me for posting on social media?",
        "Explain the difference between a will and a trust.",
        "Draft a simple contract clause limiting liability for a freelance web designer.",
        "What is GDPR and does it apply to a small US online shop?",
        "How do I file a small claims court case?",
    ],
    "marketing": [
        "Write five Instagram captions to promote {product}.",
        "Give me SEO keywords and a meta description for a blog about {product}.",
        "Create a marketing plan to launch {product} with a small budget.",
        "Write Google Ads headlines for {product}.",
        "Write a product description for {product} that converts.",
        "Suggest a content calendar for our brand's TikTok account for {product}.",
        "How can I improve the click-through rate of our email campaign for {product}?",
    ],
    "trivia": [
        "Quiz me: ten trivia questions about {topic}.",
        "Riddle: what has keys but can't open locks?",
        "Give me a pub quiz round on {topic} with answers at the end.",
        "Trivia night tomorrow: five hard questions about {topic2}, please.",
        "Let's play a trivia game about {topic}. Ask me one question at a time.",
        "This painter cut off part of his own ear in 1888. Who is he?",
        "Multiple choice: which planet has the most moons? A) Earth B) Saturn C) Mars D) Venus",
    ],
    "other": [
        "hi",
        "test",
        "hello, are you there?",
        "asdf",
        "ok thanks",
        "Who are you?",
        "continue",
        "[image]",
    ],
}

# Prompts in the languages the demo's users write besides English (``prompt_for(..., language=)``),
# a few per category: zh Chinese, ru Russian, es Spanish, th Thai.
_FOREIGN: dict[str, dict[str, list[str]]] = {
    "zh": {
        "programming": [
            "请用{lang}写一个函数，读取CSV文件并返回每一行的字典列表。",
            "我的{lang}代码报错了，帮我看看哪里有问题：\n{snippet}",
            "如何在{lang}里实现带指数退避的HTTP重试？请给出完整代码。",
        ],
        "roleplay": [
            "我们来玩角色扮演吧。你是一个住在古老城堡里的吸血鬼，我是迷路的旅人。",
            "请扮演一位脾气暴躁的矮人铁匠，用他的口吻和我对话。",
        ],
        "translation": ["请把这句话翻译成英文：我们下周一开会讨论新产品的发布计划。"],
        "general_qa": ["为什么天空是蓝色的？请简单解释一下。", "长时间坐着对身体有什么影响？"],
        "writing": ["帮我写一封邮件，告诉同事会议改到周四下午三点。", "请帮我总结这份季度报告的要点。"],
        "education": [
            "请一步一步教我解这个方程：{a}x + {b} = {c}。",
            "帮我准备明天的历史考试，出几道复习题。",
        ],
        "creative_writing": ["写一首关于秋天和离别的短诗。", "写一个发生在未来城市里的科幻短篇故事。"],
        "adult": ["写一段露骨的成人情色描写，两个恋人在酒店房间里。"],
        "technology": ["我的笔记本电脑开机很慢，应该怎么排查？", "路由器总是断网，怎么设置比较稳定？"],
        "science": ["请解释一下光合作用的原理。", "黑洞是怎么形成的？"],
        "health": ["最近总是失眠，有什么改善睡眠的方法？", "每天应该喝多少水比较健康？"],
        "finance": ["指数基金和股票哪个更适合新手投资？", "怎么制定每个月的家庭预算？"],
        "legal": ["房东不退押金，我该怎么通过法律途径维权？", "签劳动合同时要注意哪些条款？"],
        "marketing": ["帮我给一款新咖啡品牌写几条社交媒体广告文案。", "我们的网店怎么做搜索引擎优化？"],
        "trivia": ["来个小测验：太阳系里哪颗行星的卫星最多？", "猜谜语：什么东西有键却打不开锁？"],
        "other": ["你好", "测试一下", "你是谁？"],
    },
    "ru": {
        "programming": [
            "Напиши функцию на {lang}, которая читает CSV-файл и возвращает строки в виде словарей.",
            "Почему этот код на {lang} падает с ошибкой?\n{snippet}",
            "Как в {lang} сделать повторные HTTP-запросы с экспоненциальной задержкой?",
        ],
        "roleplay": [
            "Давай поиграем в ролевую игру: ты капитан звездолёта, а я новый член экипажа.",
            "Представь, что ты хозяин средневековой таверны, и поговори со мной от его лица.",
        ],
        "translation": ["Переведи на английский: спасибо за ваше письмо, я отвечу завтра."],
        "general_qa": [
            "Почему небо голубое? Объясни простыми словами.",
            "Чем полезна ходьба пешком каждый день?",
        ],
        "writing": [
            "Помоги написать письмо коллегам о переносе встречи на четверг.",
            "Сократи и отредактируй этот отчёт для руководства.",
        ],
        "education": [
            "Объясни по шагам, как решить уравнение {a}x + {b} = {c}.",
            "Помоги подготовиться к экзамену по истории, задай мне вопросы.",
        ],
        "creative_writing": [
            "Напиши короткое стихотворение об осени и разлуке.",
            "Сочини фантастический рассказ о городе будущего.",
        ],
        "adult": ["Напиши откровенную эротическую сцену для взрослых между двумя любовниками."],
        "technology": [
            "Ноутбук стал очень медленно загружаться, что проверить?",
            "Как настроить роутер, чтобы интернет не пропадал?",
        ],
        "science": ["Объясни, как работает фотосинтез.", "Как образуются чёрные дыры?"],
        "health": ["Я плохо сплю последние недели, что можно сделать?", "Сколько воды нужно пить в день?"],
        "finance": [
            "Что лучше для начинающего инвестора: индексные фонды или акции?",
            "Как составить семейный бюджет на месяц?",
        ],
        "legal": [
            "Арендодатель не возвращает залог, какие у меня права?",
            "На что обратить внимание в трудовом договоре?",
        ],
        "marketing": [
            "Придумай рекламные тексты для нового бренда кофе в соцсетях.",
            "Как улучшить SEO нашего интернет-магазина?",
        ],
        "trivia": [
            "Викторина: у какой планеты больше всего спутников?",
            "Загадка: что имеет клавиши, но не открывает замки?",
        ],
        "other": ["привет", "тест", "ты кто?"],
    },
    "es": {
        "programming": [
            "Escribe una función en {lang} que lea un archivo CSV y devuelva las filas como diccionarios.",
            "¿Por qué falla este código en {lang}?\n{snippet}",
            "¿Cómo reintento una petición HTTP con espera exponencial en {lang}?",
        ],
        "roleplay": [
            "Juguemos a un juego de rol: eres una reina pirata y yo soy un marinero nuevo en tu barco.",
            "Haz de detective en el Chicago de los años veinte y háblame como él.",
        ],
        "translation": ["Traduce al inglés: mañana vamos a la playa con mis primos."],
        "general_qa": [
            "¿Por qué el cielo es azul? Explícalo de forma sencilla.",
            "¿Qué efectos tiene pasar muchas horas sentado?",
        ],
        "writing": [
            "Ayúdame a escribir un correo para avisar que la reunión pasa al jueves.",
            "Resume los puntos clave de este informe trimestral.",
        ],
        "education": [
            "Explícame paso a paso cómo resolver {a}x + {b} = {c}.",
            "Hazme preguntas de repaso para mi examen de historia.",
        ],
        "creative_writing": [
            "Escribe un poema corto sobre el otoño y las despedidas.",
            "Escribe un cuento de ciencia ficción en una ciudad del futuro.",
        ],
        "adult": ["Escribe una escena erótica explícita para adultos entre dos amantes."],
        "technology": [
            "Mi portátil tarda mucho en arrancar, ¿qué puedo revisar?",
            "¿Cómo configuro el router para que no se corte el wifi?",
        ],
        "science": ["Explica cómo funciona la fotosíntesis.", "¿Cómo se forman los agujeros negros?"],
        "health": ["Últimamente duermo muy mal, ¿qué me recomiendas?", "¿Cuánta agua hay que beber al día?"],
        "finance": [
            "¿Qué conviene más a un principiante, fondos indexados o acciones?",
            "¿Cómo hago un presupuesto familiar mensual?",
        ],
        "legal": [
            "Mi casero no me devuelve la fianza, ¿qué puedo hacer legalmente?",
            "¿Qué cláusulas debo revisar en un contrato de trabajo?",
        ],
        "marketing": [
            "Escribe anuncios para Instagram de una nueva marca de café.",
            "¿Cómo mejoro el SEO de nuestra tienda en línea?",
        ],
        "trivia": [
            "Trivia: ¿qué planeta tiene más lunas?",
            "Adivinanza: ¿qué tiene teclas pero no abre cerraduras?",
        ],
        "other": ["hola", "prueba", "¿quién eres?"],
    },
    "th": {
        "programming": [
            "ช่วยเขียนฟังก์ชัน {lang} ที่อ่านไฟล์ CSV แล้วคืนค่าแต่ละแถวเป็นดิกชันนารีให้หน่อย",
            "โค้ด {lang} นี้ error เพราะอะไรครับ\n{snippet}",
        ],
        "roleplay": [
            "มาเล่นบทบาทสมมติกันนะ คุณเป็นนักเวทย์ในปราสาทเก่า ส่วนฉันเป็นนักเดินทางที่หลงทาง",
            "ช่วยสวมบทเป็นเจ้าของโรงเตี๊ยมยุคกลางแล้วคุยกับฉันหน่อย",
        ],
        "translation": ["ช่วยแปลประโยคนี้เป็นภาษาอังกฤษ: พรุ่งนี้เราจะไปทะเลกับครอบครัว"],
        "general_qa": ["ทำไมท้องฟ้าถึงเป็นสีฟ้า อธิบายแบบง่ายๆ หน่อย", "การนั่งนานๆ ส่งผลต่อร่างกายอย่างไร"],
        "writing": ["ช่วยเขียนอีเมลแจ้งเพื่อนร่วมงานว่าประชุมเลื่อนเป็นวันพฤหัสบดี", "ช่วยสรุปประเด็นสำคัญของรายงานไตรมาสนี้"],
        "education": ["ช่วยสอนวิธีแก้สมการ {a}x + {b} = {c} ทีละขั้นตอน", "ช่วยตั้งคำถามทบทวนสำหรับสอบประวัติศาสตร์พรุ่งนี้"],
        "creative_writing": ["แต่งกลอนสั้นๆ เกี่ยวกับฤดูใบไม้ร่วงและการจากลา", "เขียนเรื่องสั้นไซไฟในเมืองแห่งอนาคต"],
        "adult": ["เขียนฉากอีโรติกสำหรับผู้ใหญ่แบบโจ่งแจ้งระหว่างคู่รักสองคน"],
        "technology": ["โน้ตบุ๊กเปิดเครื่องช้ามาก ควรตรวจสอบอะไรบ้าง", "ตั้งค่าเราเตอร์อย่างไรให้เน็ตไม่หลุด"],
        "science": ["อธิบายหลักการของการสังเคราะห์ด้วยแสง", "หลุมดำเกิดขึ้นได้อย่างไร"],
        "health": ["ช่วงนี้นอนไม่ค่อยหลับ มีวิธีช่วยให้นอนหลับดีขึ้นไหม", "ควรดื่มน้ำวันละเท่าไร"],
        "finance": ["มือใหม่ควรลงทุนในกองทุนดัชนีหรือหุ้นดี", "วางแผนงบประมาณครอบครัวรายเดือนอย่างไร"],
        "legal": ["เจ้าของห้องไม่คืนเงินประกัน ฉันมีสิทธิ์อะไรบ้างตามกฎหมาย", "ควรดูข้อใดบ้างในสัญญาจ้างงาน"],
        "marketing": ["ช่วยเขียนข้อความโฆษณาบนโซเชียลสำหรับแบรนด์กาแฟใหม่", "ร้านค้าออนไลน์ของเราควรทำ SEO อย่างไร"],
        "trivia": ["ควิซ: ดาวเคราะห์ดวงไหนมีดวงจันทร์มากที่สุด", "ปริศนา: อะไรมีกุญแจแต่เปิดล็อกไม่ได้"],
        "other": ["สวัสดี", "ทดสอบ", "คุณคือใคร"],
    },
}
FOREIGN_LANGUAGES: tuple[str, ...] = tuple(_FOREIGN)
"""Languages besides English that :func:`prompt_for` writes (ISO 639-1)."""


def _fill(template: str, rng: random.Random) -> str:
    lang_name = rng.choice([k for k in _LANG_SAMPLES if k != "English"])
    slots = {
        "lang": rng.choice(_LANGS),
        "task": rng.choice(_CODE_TASKS),
        "error": rng.choice(_ERRORS),
        "snippet": rng.choice(_SNIPPETS),
        "tool": rng.choice(_TOOLS),
        "char": rng.choice(_CHARACTERS),
        "setting": rng.choice(_SETTINGS),
        "foreign": rng.choice(_LANG_SAMPLES[lang_name]),
        "sample": rng.choice(_LANG_SAMPLES["English"]),
        "sample2": rng.choice(_LANG_SAMPLES["English"]),
        "lang2": lang_name,
        "topic": rng.choice(_TOPICS),
        "topic2": rng.choice(_TOPICS),
        "science": rng.choice(_SCIENCE),
        "doc": rng.choice(_DOCS),
        "advice": rng.choice(_ADVICE),
        "product": rng.choice(_PRODUCTS),
        "a": rng.randint(2, 9),
        "b": rng.randint(2, 30),
        "c": rng.randint(10, 99),
    }
    return template.format(**slots)


def _rng(request_id: str, seed: int) -> random.Random:
    digest = hashlib.blake2b(f"{seed}:{request_id}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def prompt_for(category: str, request_id: str, seed: int = 0, language: str = "en") -> str:
    """One synthetic prompt of ``category`` in ``language`` ("en" or one of FOREIGN_LANGUAGES;
    deterministic in request_id and seed)."""
    rng = _rng(request_id, seed)
    if language == "en":
        return _fill(rng.choice(_TEMPLATES[category]), rng)
    if language not in _FOREIGN:
        raise ValueError(
            f"no synthetic prompts in {language!r}; languages: en, {', '.join(FOREIGN_LANGUAGES)}"
        )
    return _fill(rng.choice(_FOREIGN[language][category]), rng)


def prompts_for(categories: pa.Table, seed: int = 0) -> pa.Table:
    """A synthetic prompt for each (request_id, category[, language]) row: the samples table for a
    demo lake (English where the table has no ``language`` column)."""
    ids = categories.column("request_id").to_pylist()
    cats = categories.column("category").to_pylist()
    if "language" in categories.column_names:
        langs = categories.column("language").to_pylist()
    else:
        langs = ["en"] * len(ids)
    texts = [prompt_for(c, r, seed, lang) for r, c, lang in zip(ids, cats, langs, strict=True)]
    return pa.table({"request_id": ids, "text": texts}, schema=SAMPLE_SCHEMA)


def training_prompts(per_category: int = 200, seed: int = 1) -> tuple[list[str], list[str]]:
    """(texts, categories): ``per_category`` synthetic prompts of every category (distinct seed)."""
    texts, labels = [], []
    for category in _TEMPLATES:
        for i in range(per_category):
            texts.append(prompt_for(category, f"train-{i}", seed))
            labels.append(category)
    return texts, labels
