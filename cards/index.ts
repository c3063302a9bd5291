// Card kinds (README "Chat"): one pure builder per kind, `(data, locale) => Card`.
export * from './model.ts';
export { churnAlert, type ChurnAlertData } from './churn-alert.ts';
export { tierChange, type TierChangeData, type Playbook } from './tier-change.ts';
export { scoreForm, type ScoreFormData, COMMENT_FIELD } from './score-form.ts';
export { approvalRequest, type ApprovalRequestData, type ScoreRequest } from './approval-request.ts';
export { approvalResult, type ApprovalResultData, type ApprovalOutcome } from './approval-result.ts';
export { dailyDigest, type DailyDigestData, type DigestRiskRow, type DigestMove, type DigestPending } from './daily-digest.ts';
export { customerProfile, type CustomerProfileData } from './customer-profile.ts';
export { noticeCard } from './notice.ts';
export { alertSummary, ALERT_SUMMARY_TOP, type AlertSummaryData, type AlertSummaryRow } from './alert-summary.ts';
export type { CardContext, CustomerSummary, DimensionInfo, Person, TierRef } from './common.ts';
