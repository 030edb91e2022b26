// The pipeline's helpers: the plan digest the deploy step checks, the plan's changes the drift check prints, and the fit of bitbucket-pipelines.yml to the configuration.
export { deploymentSteps, PIPELINE_FILE, PipelineFileError, pipelineFitProblems, pipelineFitWarnings } from './pipeline-fit';
export type { DeploymentStep, FitSources } from './pipeline-fit';
export {
  canonicalJson,
  DIGEST_PATTERN,
  DIGEST_PREFIX,
  digestOf,
  planDigest,
  PlanDigestError,
  PLAN_DIGEST_USAGE,
  reviewedChanges,
  runPlanDigest,
} from './reviewed-plan';
export type { CommandOptions, ReviewedChanges, ReviewedOutputChange, ReviewedResourceChange } from './reviewed-plan';
export {
  actionWords,
  CHANGED_OUTSIDE,
  DELETED_OUTSIDE,
  NOT_APPLIED,
  planChangeLines,
  PLAN_CHANGES_USAGE,
  runPlanChanges,
} from './plan-changes';
export { deploymentStepLines, deploymentStepsSnippet, runPipelineSteps } from './deployment-steps';
