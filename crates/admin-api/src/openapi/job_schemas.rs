//! The component schemas of an application's provisioning: its job and the job's cycles, events, schema and
//! expressions, on-demand provisioning's answer, and plans.

use serde_json::{Value, json};

use super::schemas::{count, object, of, strings, text};

/// The component `name`, or null.
fn nullable(name: &str) -> Value {
    json!({"anyOf": [of(name), {"type": "null"}]})
}

/// A server-sent event named `event` whose data is a JSON text of the component `data`.
fn event(name: &str, data: &str) -> Value {
    json!({
        "properties": {
            "event": {"const": name},
            "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": of(data)},
        },
    })
}

/// The schemas.
pub fn components() -> Value {
    let execution_counts = [
        "countEntitled",
        "countEntitledForProvisioning",
        "countEscrowed",
        "countEscrowedRaw",
        "countExported",
        "countExports",
        "countImported",
        "countImportedDeltas",
        "countImportedReferenceDeltas",
    ];
    let mut execution = json!({
        "activityIdentifier": {"type": "string"},
        "state": {"enum": ["Succeeded", "EntryLevelErrors", "Failed"]},
        "timeBegan": {"type": "string"},
        "timeEnded": text(),
        "error": {"type": ["object", "null"]},
    });
    for name in execution_counts {
        execution[name] = count();
    }
    let plan_counts = [
        "evaluated",
        "created",
        "updated",
        "disabled",
        "staged",
        "deleted",
        "unchanged",
        "skipped",
        "failed",
        "members_added",
        "members_removed",
        "requests",
        "writes",
    ];
    let mut counts = json!({});
    for name in plan_counts {
        counts[name] = count();
    }
    let plan = |extra: &[&str], more: Value| {
        let mut required = vec!["id", "application", "created", "kind", "from", "to", "counts", "applied"];
        required.extend_from_slice(extra);
        let mut properties = json!({
            "id": {"type": "string"},
            "application": {"type": "string"},
            "created": {"type": "string"},
            "kind": {"enum": ["Initial", "Incremental"]},
            "from": {"type": "integer"},
            "to": {"type": "integer"},
            "counts": of("PlanCounts"),
            "applied": text(),
        });
        if let (Value::Object(properties), Value::Object(more)) = (&mut properties, more) {
            properties.extend(more);
        }
        object(&required, properties)
    };
    json!({
        "SynchronizationTemplate": object(&["id", "applicationId", "factoryTag"], json!({
            "id": {"type": "string"},
            "applicationId": {"type": "string"},
            "default": {"type": "boolean"},
            "description": {"type": "string"},
            "discoverable": {"type": "boolean"},
            "factoryTag": {"type": "string"},
            "metadata": {"type": "array"},
        })),
        "SynchronizationTaskExecution": object(&["activityIdentifier", "state", "timeBegan"], execution),
        "SynchronizationJob": object(&["id", "templateId", "schedule", "status", "synchronizationJobSettings"], json!({
            "id": {"type": "string"},
            "templateId": {"type": "string"},
            "schedule": object(&["interval", "state"], json!({
                "expiration": text(),
                "interval": {"type": "string", "pattern": "^PT"},
                "state": {"enum": ["Active", "Disabled", "Paused"]},
            })),
            "status": object(&["code", "progress", "quarantine", "lastExecution"], json!({
                "code": {"type": "string"},
                "countSuccessiveCompleteFailures": count(),
                "escrowsPruned": {"type": "boolean"},
                "lastExecution": nullable("SynchronizationTaskExecution"),
                "lastSuccessfulExecution": nullable("SynchronizationTaskExecution"),
                "lastSuccessfulExecutionWithExports": nullable("SynchronizationTaskExecution"),
                "progress": {"type": "array", "items": {"type": "object"}},
                "quarantine": {"type": ["object", "null"]},
                "steadyStateFirstAchievedTime": {"type": "string"},
                "steadyStateLastAchievedTime": {"type": "string"},
                "synchronizedEntryCountByType": {"type": "array", "items": object(&["key", "value"], json!({
                    "key": {"type": "string"},
                    "value": count(),
                }))},
                "troubleshootingUrl": text(),
            })),
            "synchronizationJobSettings": {"type": "array", "items": object(&["name", "value"], json!({
                "name": {"type": "string"},
                "value": {"type": "string"},
            }))},
        })),
        "JobState": object(&["code", "scheduleState", "quarantine", "lastExecution"], json!({
            "code": {"type": "string"},
            "scheduleState": {"enum": ["Active", "Disabled", "Paused"]},
            "quarantine": {"type": ["object", "null"]},
            "lastExecution": nullable("SynchronizationTaskExecution"),
        })),
        "JobProgress": object(
            &["activityIdentifier", "completedUnits", "totalUnits", "units", "objectsDone", "objectsTotal"],
            json!({
                "activityIdentifier": {"type": "string"},
                "completedUnits": count(),
                "totalUnits": count(),
                "units": {"const": "pages"},
                "objectsDone": count(),
                "objectsTotal": count(),
                "estimatedSecondsLeft": {"type": ["integer", "null"], "minimum": 0},
                "progressObservationDateTime": {"type": "string"},
            }),
        ),
        "JobEvent": {
            "type": "object",
            "required": ["event", "data"],
            "oneOf": [
                event("state", "JobState"),
                event("progress", "JobProgress"),
                event("cycleEnded", "SynchronizationTaskExecution"),
            ],
        },
        "SynchronizationSchema": object(&["id", "version", "directories", "synchronizationRules"], json!({
            "id": {"type": "string"},
            "version": {"type": "string"},
            "directories": {"type": "array", "items": object(&["name", "objects"], json!({
                "name": {"type": "string"},
                "objects": {"type": "array", "items": {"type": "object"}},
            }))},
            "synchronizationRules": {"type": "array", "items": object(&["id", "objectMappings"], json!({
                "id": {"type": "string"},
                "objectMappings": {"type": "array", "items": {"type": "object"}},
            }))},
        })),
        "ParseExpressionResult": object(
            &["error", "evaluationSucceeded", "evaluationResult", "parsedExpression", "parsingSucceeded"],
            json!({
                "error": {"type": ["object", "null"]},
                "evaluationSucceeded": {"type": "boolean"},
                "evaluationResult": strings(),
                "parsedExpression": {"type": ["object", "null"]},
                "parsingSucceeded": {"type": "boolean"},
            }),
        ),
        "Function": object(&["name", "parameters"], json!({
            "name": {"type": "string"},
            "parameters": {"type": "array", "items": object(&["name"], json!({"name": {"type": "string"}}))},
        })),
        "FilterOperator": object(&["name", "arity"], json!({
            "name": {"type": "string"},
            "arity": {"type": "string"},
            "supportedAttributeTypes": strings(),
        })),
        "ProvisionOnDemandResult": object(&["key", "value"], json!({
            "@odata.context": {"type": "string"},
            "key": {"type": "string", "contentMediaType": "application/json"},
            "value": {"type": "string", "contentMediaType": "application/json"},
        })),
        "PlanCounts": object(&plan_counts, counts),
        "Plan": plan(&["operations", "notes"], json!({
            "definition_digest": {"type": "string"},
            "tenant_url": {"type": "string"},
            "operations": {"type": "array", "items": {"type": "object"}},
            "notes": {"type": "array", "items": {"type": "object"}},
        })),
        "PlanSummary": plan(&["operation_count", "note_count"], json!({
            "operation_count": count(),
            "note_count": count(),
        })),
    })
}
