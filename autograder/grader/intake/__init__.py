"""Submissions as learning platforms hand them over: zips and folders downloaded from Canvas, Gradescope,
Moodle or Blackboard, unpacked safely, with one submission per student (their latest attempt).

* :mod:`.safe_zip`: unpacking a zip nobody vouches for;
* :mod:`.layouts`: which platform a download came from; one module per platform (:mod:`.canvas`,
  :mod:`.gradescope`, :mod:`.moodle`, :mod:`.blackboard`) reads its names into attempts;
* :mod:`.attempts`: the latest attempt per student, the others superseded;
* :mod:`.gather`: the paths given to ``autograder grade`` to the submissions graded;
* :mod:`.manifest`: who each submission belongs to, kept in the output folder for the exports.
"""
