"""Written answers, graded by people: the questions and answers (questions.py), and the local grading
view an instructor opens with `autograder review` (review.py serving review_page.py)."""
