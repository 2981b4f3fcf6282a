"""JSON API for scripts and LMS integrations: the same actions as the pages, authenticated by bearer tokens
(created on the account page or with `grader admin create-token`). Documented at /api/docs."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from grader.services import deadlines, grades, regrades, submissions
from grader.services.result_views import ResultView
from grader.web.auth import api_uploader, api_viewer, app_context
from grader.web.context import AppContext
from grader.web.security import Viewer
from grader.web.uploads import receive_and_submit

router = APIRouter(prefix="/api", tags=["api"])

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": ".py, .ipynb or .zip of the solution",
                        }
                    },
                }
            }
        },
    }
}


class AssignmentOut(BaseModel):
    id: str
    title: str
    deadline: datetime | None = Field(description="your due date, your extension included")
    course_end: datetime | None = Field(description="after it, nothing you hand in counts")


class CriterionOut(BaseModel):
    id: str
    title: str
    points: float | None = Field(description="null while hidden or not yet entered by an instructor")
    max_points: float
    feedback: str
    hidden: bool = Field(description="true: hidden until the deadline")
    manual: bool


class ResultOut(BaseModel):
    status: str
    message: str
    shown_points: float
    shown_max: float
    hidden_max: float = Field(description="points of criteria hidden until the deadline")
    pending_manual_max: float = Field(description="points of manual criteria not entered by an instructor yet")
    criteria: list[CriterionOut]
    stdout: str
    stderr: str
    duration_s: float

    @classmethod
    def of(cls, view: ResultView) -> "ResultOut":
        return cls(
            status=view.status,
            message=view.message,
            shown_points=view.shown_points,
            shown_max=view.shown_max,
            hidden_max=view.hidden_max,
            pending_manual_max=view.pending_manual_max,
            criteria=[CriterionOut(**vars(c)) for c in view.criteria],
            stdout=view.stdout,
            stderr=view.stderr,
            duration_s=view.duration_s,
        )


class SubmissionOut(BaseModel):
    id: int
    assignment_id: str
    original_name: str
    submitted_at: datetime
    status: str = Field(description="queued | running | graded | rejected | timeout | oom | error | infra_error")
    result: ResultOut | None


class AttemptOut(BaseModel):
    submission_id: int
    submitted_at: datetime
    status: str
    shown_points: float | None
    shown_max: float | None
    hidden_max: float
    pending_manual_max: float
    counts: bool = Field(description="this attempt is the one that counts under the course rules")
    late: bool = Field(description="handed in after your due date (your extension included)")
    late_label: str = Field(description='"" when on time, else e.g. "after the due date, −10%"')
    how_it_counts: str = Field(description="how the late policy treats it: counts, counts less, or does not count")


class ManualScoreIn(BaseModel):
    student_id: int
    assignment_id: str = Field("", description='"" for course-level items: defense, retake_questions')
    item: str
    points: float
    note: str = ""


class RegradeIn(BaseModel):
    assignment_id: str
    submission_id: int | None = Field(None, description="one submission; omit to regrade the whole assignment")


class RegradeChangeOut(BaseModel):
    student_email: str
    old: float | None
    new: float | None


class RegradeOut(BaseModel):
    id: int
    assignment_id: str
    total_jobs: int
    done_jobs: int
    published: bool
    superseded_by: int | None = Field(
        description="a later published regrade of the same submissions: this one can no longer be published"
    )
    changes: list[RegradeChangeOut]


class StandingOut(BaseModel):
    student_id: int
    email: str
    name: str
    projects: dict[str, float | None]
    homework: float
    defense: float | None
    total: float
    passed: bool
    retake_eligible: bool
    plagiarism_flags: list[str]


def _submission_out(page: submissions.SubmissionPage) -> SubmissionOut:
    return SubmissionOut(
        id=page.submission.id,
        assignment_id=page.submission.assignment_id,
        original_name=page.submission.original_name,
        submitted_at=page.submission.submitted_at,
        status=page.status,
        result=ResultOut.of(page.result) if page.result else None,
    )


def _regrade_out(status: regrades.RegradeStatus) -> RegradeOut:
    return RegradeOut(
        id=status.batch_id,
        assignment_id=status.assignment_id,
        total_jobs=status.total_jobs,
        done_jobs=status.done_jobs,
        published=status.published,
        superseded_by=status.superseded_by,
        changes=[RegradeChangeOut(student_email=c.student.email, old=c.old, new=c.new) for c in status.changes],
    )


@router.get("/assignments", response_model=list[AssignmentOut])
def list_assignments(viewer: Viewer = Depends(api_viewer), ctx: AppContext = Depends(app_context)):
    dates = [(a, deadlines.dates_of(ctx, viewer.id, a)) for a in ctx.assignments()]
    return [AssignmentOut(id=a.id, title=a.title, deadline=d.due, course_end=d.course_end) for a, d in dates]


@router.post(
    "/assignments/{assignment_id}/submissions",
    status_code=202,
    response_model=SubmissionOut,
    openapi_extra=UPLOAD_BODY,
    summary="Upload a solution; it is stored, acknowledged, then graded",
)
async def submit(
    request: Request, assignment_id: str, viewer: Viewer = Depends(api_uploader), ctx: AppContext = Depends(app_context)
):
    recorded = await receive_and_submit(request, ctx, viewer, assignment_id)
    return SubmissionOut(
        id=recorded.submission_id,
        assignment_id=assignment_id,
        original_name=recorded.original_name,
        submitted_at=recorded.submitted_at,
        status="queued",
        result=None,
    )


@router.get("/assignments/{assignment_id}/attempts", response_model=list[AttemptOut])
def attempts(assignment_id: str, viewer: Viewer = Depends(api_viewer), ctx: AppContext = Depends(app_context)):
    rows = submissions.attempt_rows(ctx, viewer, viewer.id, ctx.assignment(assignment_id))
    return [AttemptOut(**vars(row)) for row in rows]


@router.get("/submissions/{submission_id}", response_model=SubmissionOut)
def submission(submission_id: int, viewer: Viewer = Depends(api_viewer), ctx: AppContext = Depends(app_context)):
    return _submission_out(submissions.submission_page(ctx, viewer, submission_id))


@router.get("/gradebook", response_model=list[StandingOut], summary="Instructors: every student's standing")
def gradebook(viewer: Viewer = Depends(api_viewer), ctx: AppContext = Depends(app_context)):
    _, rows = grades.dashboard_rows(ctx, viewer)
    return [
        StandingOut(
            student_id=row.user.id,
            email=row.user.email,
            name=row.user.name,
            projects={p.assignment_id: p.points for p in row.standing.projects},
            homework=row.standing.homework,
            defense=row.standing.defense,
            total=row.standing.total,
            passed=row.standing.passed,
            retake_eligible=row.standing.retake_eligible,
            plagiarism_flags=[f"{f.assignment_id}:{f.status}" for f in row.flags],
        )
        for row in rows
    ]


@router.get("/grades.csv", response_class=PlainTextResponse, summary="Instructors: grades for the university")
def grades_csv(viewer: Viewer = Depends(api_viewer), ctx: AppContext = Depends(app_context)):
    return PlainTextResponse(grades.export_grades(ctx, viewer), media_type="text/csv")


@router.post(
    "/manual-scores", status_code=201, summary="Instructors: enter a defense, manual criterion or retake score"
)
def manual_score(body: ManualScoreIn, viewer: Viewer = Depends(api_viewer), ctx: AppContext = Depends(app_context)):
    grades.enter_manual_score(ctx, viewer, body.student_id, body.assignment_id, body.item, body.points, body.note)
    return {"ok": True}


@router.post("/regrades", status_code=202, response_model=RegradeOut)
def regrade(body: RegradeIn, viewer: Viewer = Depends(api_viewer), ctx: AppContext = Depends(app_context)):
    batch_id = regrades.start_regrade(ctx, viewer, body.assignment_id, body.submission_id)
    return _regrade_out(regrades.regrade_status(ctx, viewer, batch_id))


@router.get("/regrades/{batch_id}", response_model=RegradeOut, summary="Instructors: progress and old → new points")
def regrade_status(batch_id: int, viewer: Viewer = Depends(api_viewer), ctx: AppContext = Depends(app_context)):
    return _regrade_out(regrades.regrade_status(ctx, viewer, batch_id))


@router.post("/regrades/{batch_id}/publish", response_model=RegradeOut)
def publish_regrade(batch_id: int, viewer: Viewer = Depends(api_viewer), ctx: AppContext = Depends(app_context)):
    regrades.publish_regrade(ctx, viewer, batch_id)
    return _regrade_out(regrades.regrade_status(ctx, viewer, batch_id))
