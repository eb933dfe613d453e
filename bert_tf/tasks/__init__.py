"""Fine-tuning tasks made from plain text (commands, held out by document): `make_pair_task`
(sentence pairs), `make_case_task` (truecasing tags), `make_cloze_task` (SQuAD-layout cloze QA), and
`labelled_text_to_lines` (a labelled CSV's training texts as a pre-training corpus).
"""
