"""The model's fingerprint: the lock's pins of packages no training step imports do not retrain."""
from __future__ import annotations

from scripts.train_if_needed import LOCK, NOT_TRAINING_PACKAGES, training_content

LOCK_TEXT = b"# Generated\nalembic==1.18.5\npreshed==3.0.15\nprompt-toolkit==3.0.28\nrasa==3.6.21\n"


def test_adding_or_moving_the_metrics_client_leaves_the_fingerprinted_lock_as_it_was():
    assert "prometheus-client" in NOT_TRAINING_PACKAGES
    added = LOCK_TEXT.replace(b"preshed==3.0.15\n", b"preshed==3.0.15\nprometheus_client==0.26.0\n")
    moved = added.replace(b"0.26.0", b"0.27.1")
    assert training_content(LOCK, added) == training_content(LOCK, moved) == LOCK_TEXT


def test_any_other_pin_changes_what_is_fingerprinted():
    assert training_content(LOCK, LOCK_TEXT.replace(b"rasa==3.6.21", b"rasa==3.6.22")) != LOCK_TEXT
    assert training_content(LOCK, LOCK_TEXT + b"prometheus-flask-exporter==0.23\n") != LOCK_TEXT


def test_other_training_inputs_are_fingerprinted_whole():
    text = b"prometheus_client==0.26.0\n"
    assert training_content("config.yml", text) == text
