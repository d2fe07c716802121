"""actions/walks.py: every yes/no step a walk can leave open has its answer in the registry."""
from actions.walks import STEP_ANSWERS, Step


def test_every_step_has_an_answer_and_the_registry_names_no_other():
    steps = {value for name, value in vars(Step).items() if name.isupper()}
    assert set(STEP_ANSWERS) == steps
