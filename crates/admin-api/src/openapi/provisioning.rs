//! The rows of an application's provisioning: its synchronization templates, secrets and job, the job's schema and
//! expressions, on-demand provisioning, plans and events.

use super::{Operation, delete, get, post, put, tagged};
use crate::{events, on_demand, plans, schema, synchronization};

/// The operations below `/servicePrincipals/{id}/synchronization`.
pub fn operations() -> impl Iterator<Item = Operation> {
    let sync = "/servicePrincipals/{id}/synchronization";
    let job = format!("{sync}/jobs/{{job}}");
    let template = format!("{sync}/templates/{{template}}");
    // 400 on the job's commands too: one that waits too long for a running cycle is refused as a conflict, which the
    // admin API answers as Graph answers a conflicting write (crate::error).
    let jobs = vec![
        get(
            format!("{sync}/templates"),
            "listSynchronizationTemplates",
            "The synchronization templates",
            synchronization::templates,
        )
        .ok(200, "SynchronizationTemplateCollection"),
        put(
            format!("{sync}/secrets"),
            "putSynchronizationSecrets",
            "Set the tenant URL, token and settings",
            synchronization::put_secrets,
        )
        .body("Secrets")
        .errors(&[403]),
        get(format!("{sync}/jobs"), "listSynchronizationJobs", "The application's job", synchronization::jobs)
            .ok(200, "SynchronizationJobCollection"),
        post(
            format!("{sync}/jobs"),
            "createSynchronizationJob",
            "Create the job from its template",
            synchronization::create_job,
        )
        .body("NewSynchronizationJob")
        .ok(201, "SynchronizationJob")
        .errors(&[403]),
        get(job.clone(), "getSynchronizationJob", "The job and its status", synchronization::job)
            .ok(200, "SynchronizationJob"),
        delete(
            job.clone(),
            "deleteSynchronizationJob",
            "Turn provisioning off, forget the job's state",
            synchronization::delete_job,
        )
        .errors(&[400, 403]),
        post(
            format!("{job}/start"),
            "startSynchronizationJob",
            "Start (or resume) provisioning",
            synchronization::start,
        )
        .errors(&[400, 403]),
        post(format!("{job}/pause"), "pauseSynchronizationJob", "Pause provisioning", synchronization::pause)
            .errors(&[400, 403]),
        post(
            format!("{job}/restart"),
            "restartSynchronizationJob",
            "Reset the job and run a cycle soon",
            synchronization::restart,
        )
        .optional_body("Restart")
        .errors(&[403]),
        post(
            format!("{job}/validateCredentials"),
            "validateSynchronizationCredentials",
            "Test Connection",
            synchronization::validate_credentials,
        )
        .body("ValidateCredentials")
        .errors(&[403]),
        // 409: a cycle holds the job; 429: Graph's rate limit; 502: the target failed as a whole.
        post(
            format!("{job}/provisionOnDemand"),
            "provisionOnDemand",
            "Provision one user or group now",
            on_demand::provision,
        )
        .body("ProvisionOnDemand")
        .ok(200, "ProvisionOnDemandResult")
        .errors(&[403, 409, 429, 502]),
        get(
            format!("{job}/events"),
            "streamJobEvents",
            "The job's state, progress and cycles as they change",
            events::stream,
        )
        .events("JobEvent"),
    ];
    let schemas = vec![
        get(format!("{job}/schema"), "getSynchronizationSchema", "The job's mappings", schema::get)
            .ok(200, "SynchronizationSchema"),
        put(format!("{job}/schema"), "putSynchronizationSchema", "Replace the job's mappings", schema::put)
            .body("SynchronizationSchemaChanges")
            .errors(&[403]),
        delete(
            format!("{job}/schema"),
            "deleteSynchronizationSchema",
            "Back to the template's mappings",
            schema::delete,
        )
        .errors(&[400, 403]),
        post(
            format!("{job}/schema/parseExpression"),
            "parseExpression",
            "Parse and try an expression",
            schema::parse_expression,
        )
        .body("ParseExpression")
        .ok(200, "ParseExpressionResult"),
        get(format!("{job}/schema/functions"), "listFunctions", "The expression functions", schema::functions)
            .ok(200, "FunctionCollection"),
        get(
            format!("{job}/schema/filterOperators"),
            "listFilterOperators",
            "The scoping filter operators",
            schema::filter_operators,
        )
        .ok(200, "FilterOperatorCollection"),
        get(format!("{template}/schema"), "getTemplateSchema", "The template's mappings", schema::template_get)
            .ok(200, "SynchronizationSchema"),
        post(
            format!("{template}/schema/parseExpression"),
            "parseTemplateExpression",
            "Parse and try an expression",
            schema::template_parse_expression,
        )
        .body("ParseExpression")
        .ok(200, "ParseExpressionResult"),
        get(
            format!("{template}/schema/functions"),
            "listTemplateFunctions",
            "The expression functions",
            schema::template_functions,
        )
        .ok(200, "FunctionCollection"),
        get(
            format!("{template}/schema/filterOperators"),
            "listTemplateFilterOperators",
            "The filter operators",
            schema::template_filter_operators,
        )
        .ok(200, "FilterOperatorCollection"),
    ];
    let plans = vec![
        get(format!("{job}/plans"), "listPlans", "The job's stored plans, newest first", plans::list)
            .ok(200, "PlanSummaryCollection"),
        // 400: the job has no tenant URL or token; 409: a cycle holds the job; 502: the target failed.
        post(format!("{job}/plans"), "createPlan", "A dry run of the next cycle, stored", plans::create)
            .ok(201, "Plan")
            .headers(&["Location"])
            .errors(&[400, 403, 409, 502]),
        get(format!("{job}/plans/{{plan}}"), "getPlan", "A stored plan", plans::get).ok(200, "Plan"),
        // 409: the plan was applied already; whether it still holds is found in the background.
        post(
            format!("{job}/plans/{{plan}}/apply"),
            "applyPlan",
            "Apply a plan exactly, in the background",
            plans::apply,
        )
        .accepted()
        .headers(&["Location"])
        .errors(&[400, 403, 409]),
    ];
    tagged("synchronization", jobs).chain(tagged("schema", schemas)).chain(tagged("plans", plans))
}
