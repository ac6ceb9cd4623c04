"""The reading of Portuguese, measured on the held-out part of the labelled corpus, and how long
one detection and one answer take (the poll reads every changed ticket's subject and message)."""

from __future__ import annotations

import time

from worker.config import Config, detection_settings, reply_settings
from worker.core.detection import detect
from worker.core.replies import read_answer
from worker.reading.corpus import answer_items, detection_items
from worker.reading.evaluate import evaluate


def run() -> None:
    config = Config()
    print()
    lines, _ = evaluate(config, "held")
    print("\n".join(lines))
    emails, answers = detection_items(), answer_items()
    detection, replies = detection_settings(config.detection), reply_settings(config.replies)
    started = time.perf_counter()
    for item in emails:
        detect(item.subject, item.body, "email", frozenset(), "cancelamento", detection)
    per_email = (time.perf_counter() - started) / len(emails)
    started = time.perf_counter()
    for answer in answers:
        read_answer(answer.body, replies)
    per_answer = (time.perf_counter() - started) / len(answers)
    print(f"detection: {per_email * 1e6:.0f} µs per e-mail; answers: {per_answer * 1e6:.0f} µs")
