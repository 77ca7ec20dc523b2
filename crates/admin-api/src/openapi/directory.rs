//! The rows of the directory's operations: users, groups, applications and their assignments, roster's
//! enterprises, and the logs.

use super::Param::{Count, Filter, NewestFirst, Select, SkipToken, Top};
use super::{DIRECTORY_QUERY, Operation, delete, get, patch, post, tagged};
use crate::{applications, enterprises, groups, logs, users};

/// Users, groups, applications, enterprises and logs.
pub fn operations() -> impl Iterator<Item = Operation> {
    let users = vec![
        get("/users", "listUsers", "List users", users::list)
            .query(DIRECTORY_QUERY)
            .ok(200, "UserCollection")
            .errors(&[403]),
        post("/users", "createUser", "Create a user", users::create).body("NewUser").ok(201, "User").errors(&[403]),
        get("/users/{id}", "getUser", "A user, by id or userPrincipalName", users::get)
            .query(&[Select])
            .ok(200, "User")
            .errors(&[403]),
        patch("/users/{id}", "updateUser", "Update a user (null clears a property)", users::update)
            .body("UserChanges")
            .errors(&[403]),
        delete("/users/{id}", "deleteUser", "Delete a user (to the recycle bin)", users::delete).errors(&[403]),
    ];
    let groups = vec![
        get("/groups", "listGroups", "List groups", groups::list)
            .query(DIRECTORY_QUERY)
            .ok(200, "GroupCollection")
            .errors(&[403]),
        // 404: a member named in members@odata.bind does not exist.
        post("/groups", "createGroup", "Create a group", groups::create)
            .body("NewGroup")
            .ok(201, "Group")
            .errors(&[403, 404]),
        get("/groups/{id}", "getGroup", "A group", groups::get).query(&[Select]).ok(200, "Group").errors(&[403]),
        patch("/groups/{id}", "updateGroup", "Update a group, add members@odata.bind", groups::update)
            .body("GroupChanges")
            .errors(&[403]),
        delete("/groups/{id}", "deleteGroup", "Delete a group", groups::delete).errors(&[403]),
        get("/groups/{id}/members", "listMembers", "A group's direct members", groups::members)
            .query(&[Select, Top(999), SkipToken, Count])
            .ok(200, "DirectoryObjectCollection")
            .errors(&[403]),
        post("/groups/{id}/members/$ref", "addMember", "Add a member", groups::add_member)
            .body("Reference")
            .errors(&[403]),
        delete("/groups/{id}/members/{member}/$ref", "removeMember", "Remove a member", groups::remove_member)
            .errors(&[403]),
    ];
    let applications = vec![
        get("/applicationTemplates", "listApplicationTemplates", "The application templates", applications::templates)
            .query(&[Filter])
            .ok(200, "ApplicationTemplateCollection")
            .errors(&[403]),
        get(
            "/applicationTemplates/{id}",
            "getApplicationTemplate",
            "An application template",
            applications::template_by_id,
        )
        .ok(200, "ApplicationTemplate")
        .errors(&[403]),
        post(
            "/applicationTemplates/{id}/instantiate",
            "instantiateApplicationTemplate",
            "Create an application from a template",
            applications::instantiate,
        )
        .body("Instantiate")
        .ok(201, "InstantiatedApplication")
        .errors(&[403]),
        // The applications the caller may read: no 403, the others are left out (404 by id).
        get(
            "/servicePrincipals",
            "listServicePrincipals",
            "List service principals (applications)",
            applications::list,
        )
        .query(&[Filter, Count])
        .ok(200, "ServicePrincipalCollection"),
        get("/servicePrincipals/{id}", "getServicePrincipal", "A service principal", applications::get)
            .ok(200, "ServicePrincipal"),
        get(
            "/servicePrincipals/{id}/appRoleAssignedTo",
            "listAppRoleAssignedTo",
            "Who is assigned to the application",
            applications::assignments,
        )
        .ok(200, "AppRoleAssignmentCollection"),
        post(
            "/servicePrincipals/{id}/appRoleAssignedTo",
            "createAppRoleAssignedTo",
            "Assign a user or group",
            applications::assign,
        )
        .body("NewAppRoleAssignment")
        .ok(201, "AppRoleAssignment")
        .errors(&[403]),
        delete(
            "/servicePrincipals/{id}/appRoleAssignedTo/{assignment}",
            "deleteAppRoleAssignedTo",
            "Remove an assignment",
            applications::unassign,
        )
        .errors(&[403]),
    ];
    let enterprises = vec![
        get("/roster/enterprises", "listEnterprises", "The service provider's enterprises", enterprises::list)
            .ok(200, "EnterpriseCollection")
            .errors(&[403]),
        post("/roster/enterprises", "createEnterprise", "Create an enterprise", enterprises::create)
            .body("NewEnterprise")
            .ok(201, "Enterprise")
            .errors(&[403]),
        get("/roster/enterprises/{slug}", "getEnterprise", "An enterprise", enterprises::get)
            .ok(200, "Enterprise")
            .errors(&[403]),
        get(
            "/roster/enterprises/{slug}/tokens",
            "listEnterpriseTokens",
            "An enterprise's SCIM tokens",
            enterprises::tokens,
        )
        .ok(200, "EnterpriseTokenCollection")
        .errors(&[403]),
        post(
            "/roster/enterprises/{slug}/tokens",
            "createEnterpriseToken",
            "A new SCIM token (shown once)",
            enterprises::create_token,
        )
        .body("NewEnterpriseToken")
        .ok(201, "CreatedEnterpriseToken")
        .headers(&["Cache-Control"])
        .errors(&[403]),
        delete(
            "/roster/enterprises/{slug}/tokens/{token}",
            "revokeEnterpriseToken",
            "Revoke a SCIM token",
            enterprises::revoke_token,
        )
        .errors(&[403]),
    ];
    let logs = vec![
        // The entries of the applications the caller may read: no 403.
        get("/auditLogs/provisioning", "listProvisioningLogs", "Provisioning logs, newest first", logs::provisioning)
            .query(&[Filter, NewestFirst, Top(1000), SkipToken])
            .ok(200, "ProvisioningObjectSummaryCollection"),
        get("/auditLogs/directoryAudits", "listDirectoryAudits", "The audit log, newest first", logs::directory_audits)
            .query(&[Filter, NewestFirst, Top(1000), SkipToken])
            .ok(200, "DirectoryAuditCollection")
            .errors(&[403]),
        get("/auditLogs/directoryAudits/{id}", "getDirectoryAudit", "An audit entry", logs::directory_audit)
            .ok(200, "DirectoryAudit")
            .errors(&[403]),
    ];
    tagged("users", users)
        .chain(tagged("groups", groups))
        .chain(tagged("applications", applications))
        .chain(tagged("enterprises", enterprises))
        .chain(tagged("logs", logs))
}
