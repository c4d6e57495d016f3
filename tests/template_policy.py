"""Checks template.yaml against the code: each function's role grants exactly
the AWS actions that function calls (plus writing its own logs, and only
its own), is trusted by Lambda alone, uses `*` only where an action takes no
resource, scopes the CodeDeploy actions to the deployment groups given as a
parameter and the ECS reads to the services of EcsServiceArns, lets the
spec reads reach only the spec's own SSM parameter or S3 object (and only
when it is set), attaches no managed policy but the VPC one under its
condition; the ECS lifecycle hook has a role of its own with no CodeDeploy
action, and the role ECS assumes to invoke it is trusted by ECS alone and
may invoke that one function, nothing else; no other role exists. It also
checks that the template decides the asynchronous retries (at most one, no
event older than CodeDeploy's hour) and that every GREENLIGHT_* variable the
code reads is set or documented in the template. Run by `make lint`; exits
1 with one line per problem.

    python tests/template_policy.py [template.yaml]
    python tests/template_policy.py --self-test [template.yaml]
"""

import pathlib
import re
import sys

import cfnlint.decode

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The adapters are where AWS is called; each names its IAM action.
ADAPTERS = sorted((ROOT / "aws/src").glob("*.rs"))
ACTION = re.compile(r'"((?:codedeploy|ecs|elasticloadbalancing|cloudwatch|ssm|s3|lambda):[A-Za-z]+)"')
# The SDK operations the adapters call, by method name, and the IAM action
# each needs: a call counts even where its action's name is not written out.
SDK_CALLS = {
    "put_lifecycle_event_hook_execution_status": "codedeploy:PutLifecycleEventHookExecutionStatus",
    "get_deployment": "codedeploy:GetDeployment",
    "get_deployment_group": "codedeploy:GetDeploymentGroup",
    "list_deployment_targets": "codedeploy:ListDeploymentTargets",
    "batch_get_deployment_targets": "codedeploy:BatchGetDeploymentTargets",
    "describe_task_sets": "ecs:DescribeTaskSets",
    "describe_service_deployments": "ecs:DescribeServiceDeployments",
    "describe_service_revisions": "ecs:DescribeServiceRevisions",
    "describe_rules": "elasticloadbalancing:DescribeRules",
    "describe_listeners": "elasticloadbalancing:DescribeListeners",
    "describe_load_balancers": "elasticloadbalancing:DescribeLoadBalancers",
    "describe_target_groups": "elasticloadbalancing:DescribeTargetGroups",
    "describe_target_health": "elasticloadbalancing:DescribeTargetHealth",
    "describe_alarms": "cloudwatch:DescribeAlarms",
    "get_metric_data": "cloudwatch:GetMetricData",
    "get_parameter": "ssm:GetParameter",
    "get_object": "s3:GetObject",
    "invoke": "lambda:InvokeFunction",
}
SDK_CALL = re.compile(r"\.\s*([a-z][a-z0-9_]*)\s*\(")
# A call on one of the adapters' SDK clients (self.ecs.describe_...()): its
# method must be in SDK_CALLS, so that no operation escapes the check.
CLIENT_CALL = re.compile(r"\.\s*(?:codedeploy|ecs|elbv2|cloudwatch|ssm|s3|lambda)\s*\.\s*([a-z][a-z0-9_]*)\s*\(")
# The ECS lifecycle hook (binary ecs-lifecycle-hook of the package
# greenlight-ecs, folder ecs/): the actions it calls. Every other function is
# a CodeDeploy hook, which calls every action of the adapters but
# ECS_HOOK_ONLY.
ECS_HOOK_BINARY = "ecs-lifecycle-hook"
ECS_HOOK_PACKAGE = ROOT / "ecs/Cargo.toml"
ECS_HOOK_ACTIONS = {
    "ecs:DescribeServiceDeployments",
    "ecs:DescribeServiceRevisions",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTargetGroups",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:GetMetricData",
    "ssm:GetParameter",
    "s3:GetObject",
}
ECS_HOOK_ONLY = {
    "ecs:DescribeServiceDeployments",
    "ecs:DescribeServiceRevisions",
    "elasticloadbalancing:DescribeRules",
}
# Resource scoping by parameter: each action, the parameter its resources
# must be derived from, and what they are.
SCOPED = {
    "ecs:DescribeTaskSets": ("EcsServiceArns", ":task-set/", "the task sets of EcsServiceArns"),
    "ecs:DescribeServiceDeployments": (
        "EcsServiceArns", ":service-deployment/", "the service deployments of EcsServiceArns"),
    "ecs:DescribeServiceRevisions": (
        "EcsServiceArns", ":service-revision/", "the service revisions of EcsServiceArns"),
    "cloudwatch:DescribeAlarms": ("AlarmNamePrefix", ":alarm:", "the alarms named AlarmNamePrefix*"),
}
# The role ECS assumes to invoke the ECS lifecycle hook: this action only,
# on that function only.
INVOKE_ACTION = "lambda:InvokeFunction"
# Actions that accept no resource-level permission: "*" is the only choice.
NO_RESOURCE = {
    "codedeploy:ListDeploymentTargets",
    "codedeploy:BatchGetDeploymentTargets",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTargetHealth",
    "cloudwatch:GetMetricData",
}
# Not called by the code but by Lambda for it: writing the function's logs,
# allowed on the template's own log groups only.
PLATFORM = {"logs:CreateLogStream", "logs:PutLogEvents"}
# Managed policies allowed, and the condition each must sit under.
MANAGED = {"AWSLambdaVPCAccessExecutionRole": "HasVpc"}
# The spec's sources: each read action, the parameter that names its one
# resource, and the condition (that parameter is set) it must sit under.
SPEC_READS = {
    "ssm:GetParameter": ("SpecParameterName", "HasSpecParameter"),
    "s3:GetObject": ("SpecS3Uri", "HasSpecObject"),
}
# Variables the code reads that the template need not set.
UNSET_OK = {"GREENLIGHT_SPEC_FILE"}


def as_list(value):
    return value if isinstance(value, list) else [value]


def branches(value):
    """The values a (possibly conditional) item can take, with their conditions."""
    if isinstance(value, dict) and "Fn::If" in value:
        condition, yes, no = value["Fn::If"]
        for item, conds in branches(yes):
            yield item, conds | {condition}
        for item, conds in branches(no):
            yield item, conds
    elif isinstance(value, dict) and value.get("Ref") == "AWS::NoValue":
        return
    else:
        yield value, set()


def statements(resource):
    """(statement, conditions) of every inline policy of a role or role policy."""
    props = resource.get("Properties", {})
    documents = []
    if resource.get("Type") == "AWS::IAM::Role":
        documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
    elif resource.get("Type") in ("AWS::IAM::RolePolicy", "AWS::IAM::Policy"):
        documents = [props["PolicyDocument"]]
    for document in documents:
        for entry in as_list(document["Statement"]):
            yield from branches(entry)


def mentions(value, name):
    """Whether a resource expression refers to `name` (a parameter or resource)."""
    if isinstance(value, dict):
        if value.get("Ref") == name:
            return True
        if "Fn::Sub" in value:
            sub = value["Fn::Sub"]
            text, variables = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1] if len(sub) > 1 else {})
            if f"${{{name}}}" in text or f"${{{name}." in text:
                return True
            return mentions(variables, name)
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            target = target[0] if isinstance(target, list) else target.split(".")[0]
            return target == name
        return any(mentions(v, name) for v in value.values())
    if isinstance(value, list):
        return any(mentions(v, name) for v in value)
    return False


def text_of(value):
    """The literal text of a resource expression, with its variables' names."""
    if isinstance(value, dict):
        return " ".join(text_of(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(text_of(v) for v in value)
    return str(value)


def getatt(value):
    """The resource named by !GetAtt NAME.Arn, else None."""
    if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
        target = value["Fn::GetAtt"]
        target = target if isinstance(target, list) else target.split(".", 1)
        if len(target) == 2 and target[1] == "Arn":
            return target[0]
    return None


def self_invoker(statement):
    """The function a lambda:InvokeFunction statement of a function's role
    lets invoke itself, or None: its resources are that function's ARN
    (!GetAtt F.Arn, and !Sub ${F.Arn}:* for its versions and aliases) and
    nothing else, and its condition lets only that function call (StringLike
    aws:userid "*:${F}", Lambda's session name being the function's name)."""
    owners = set()
    for target in as_list(statement.get("Resource", [])):
        sub = target.get("Fn::Sub") if isinstance(target, dict) else None
        qualified = re.fullmatch(r"\$\{(\w+)\.Arn\}:\*", sub) if isinstance(sub, str) else None
        owners.add(getatt(target) or (qualified.group(1) if qualified else None))
    userid = statement.get("Condition", {}).get("StringLike", {}).get("aws:userid")
    sub = userid.get("Fn::Sub") if isinstance(userid, dict) else None
    caller = re.fullmatch(r"\*:\$\{(\w+)\}", sub) if isinstance(sub, str) else None
    if len(owners) == 1 and caller and caller.group(1) in owners:
        return caller.group(1)
    return None


def role_of(resource):
    """The role a role policy is attached to (the logical ID of !Ref ROLE)."""
    props = resource.get("Properties", {})
    if resource.get("Type") == "AWS::IAM::RolePolicy":
        names = [props.get("RoleName")]
    elif resource.get("Type") == "AWS::IAM::Policy":
        names = as_list(props.get("Roles", []))
    else:
        return []
    return [n["Ref"] if isinstance(n, dict) and "Ref" in n else str(n) for n in names]


def trusted(role):
    """The service principals of a role's trust policy, and its oddities."""
    services, odd = set(), []
    document = role.get("Properties", {}).get("AssumeRolePolicyDocument", {})
    for statement, conditions in (s for e in as_list(document.get("Statement", [])) for s in branches(e)):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        if conditions or not isinstance(principal, dict) or set(principal) != {"Service"}:
            odd.append(f"principal {principal}")
            continue
        if as_list(statement.get("Action")) != ["sts:AssumeRole"]:
            odd.append(f"action {statement.get('Action')}")
        services.update(str(s) for s in as_list(principal["Service"]))
    return services, odd


def called_actions():
    """The IAM actions the adapters call, and SDK calls of unknown action."""
    called, unknown = set(), set()
    for adapter in ADAPTERS:
        code = adapter.read_text()
        called.update(ACTION.findall(code))
        called.update(SDK_CALLS[m] for m in SDK_CALL.findall(code) if m in SDK_CALLS)
        unknown.update(
            f"{adapter.relative_to(ROOT)}: {m}" for m in CLIENT_CALL.findall(code) if m not in SDK_CALLS
        )
    return called, unknown


def load(path):
    template, errors = cfnlint.decode.decode_str(path.read_text())
    if errors:
        sys.exit(f"{path.name} does not parse: {errors}")
    return template


def check(template, name="template.yaml", raw=""):
    """(summary lines, problems, notes) of a template."""
    problems, notes, summary = [], [], []
    called, unknown = called_actions()
    for call in sorted(unknown):
        problems.append(f"{call} is an SDK call this check cannot map to an IAM action: add it to SDK_CALLS")
    text = raw or str(template)
    resources = template["Resources"]
    roles = {n: r for n, r in resources.items() if r.get("Type") == "AWS::IAM::Role"}
    log_groups = {n: r for n, r in resources.items() if r.get("Type") == "AWS::Logs::LogGroup"}

    # The functions: each one's binary, role and log groups, and what it calls.
    codedeploy_needs = called - ECS_HOOK_ONLY
    role_functions = {}
    ecs_hooks = []
    needs = {}
    own_logs = {}
    for fname, function in resources.items():
        if function.get("Type") not in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            continue
        binary = function.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        role = getatt(function.get("Properties", {}).get("Role"))
        if role not in roles:
            problems.append(f"{fname}: Role must be !GetAtt ROLE.Arn of a role of {name}")
            continue
        role_functions.setdefault(role, []).append(fname)
        if binary == ECS_HOOK_BINARY:
            ecs_hooks.append(fname)
            needs.setdefault(role, set()).update(ECS_HOOK_ACTIONS)
        else:
            needs.setdefault(role, set()).update(codedeploy_needs)
        groups = {g for g, r in log_groups.items() if mentions(r.get("Properties", {}).get("LogGroupName"), fname)}
        if not groups:
            problems.append(f"{fname} has no log group of its own in {name}")
        own_logs.setdefault(role, set()).update(groups)
    if len(ecs_hooks) != 1:
        problems.append(f"{name}: expected one function of binary {ECS_HOOK_BINARY} (the ECS lifecycle hook), found {ecs_hooks}")
    ecs_hook = ecs_hooks[0] if ecs_hooks else None
    for role, fnames in role_functions.items():
        if ecs_hook in fnames and len(fnames) > 1:
            others = [f for f in fnames if f != ecs_hook]
            problems.append(f"{role}: the ECS lifecycle hook {ecs_hook} must have a role of its own, not one with {others}")

    # The ECS hook's actions against the code. Until its package exists, the
    # adapters may not call them all yet: a note, not a problem.
    not_yet = ECS_HOOK_ACTIONS - called
    if not_yet and not ECS_HOOK_PACKAGE.exists():
        notes.append(
            f"note: {ECS_HOOK_PACKAGE.parent.name}/ (the ECS lifecycle hook's package) is not in the tree yet;"
            f" the code does not call yet: {', '.join(sorted(not_yet))}"
        )
    else:
        for action in sorted(not_yet):
            problems.append(f"ECS_HOOK_ACTIONS names {action}, which no code calls")

    # Every statement of every role: inline, and role policies attached to it.
    statements_of = {role: [] for role in roles}
    for rname, resource in resources.items():
        if resource.get("Type") == "AWS::IAM::Role":
            statements_of[rname].extend((rname, s, c) for s, c in statements(resource))
        elif resource.get("Type") in ("AWS::IAM::RolePolicy", "AWS::IAM::Policy"):
            attached = role_of(resource)
            for role in attached:
                if role not in roles:
                    problems.append(f"{rname}: attached to {role}, which is no role of {name}")
                else:
                    statements_of[role].extend((rname, s, c) for s, c in statements(resource))
            if not attached:
                problems.append(f"{rname}: a policy attached to no role of {name}")
        elif resource.get("Type", "").startswith("AWS::IAM::"):
            problems.append(f"{rname}: {resource.get('Type')} is not expected in {name}")

    granted_anywhere = set()
    invoke_roles = []
    for role, resource in roles.items():
        services, odd = trusted(resource)
        managed = resource.get("Properties", {}).get("ManagedPolicyArns")
        if role not in role_functions:
            # Not a function's role: it can only be the role ECS assumes to
            # invoke the ECS lifecycle hook.
            invoke_roles.append(role)
            if services != {"ecs.amazonaws.com"} or odd:
                problems.append(
                    f"{role}: a role no function runs with must be the ECS hook's invoke role,"
                    f" trusted by ecs.amazonaws.com alone; it trusts {sorted(services)} {odd or ''}".rstrip()
                )
            if managed:
                problems.append(f"{role}: the invoke role attaches no managed policy, got {managed}")
            entries = [(src, s, c) for src, s, c in statements_of[role] if s.get("Effect") == "Allow"]
            if len(entries) != 1:
                problems.append(f"{role}: the invoke role has exactly one statement (lambda:InvokeFunction), got {len(entries)}")
            for src, statement, conditions in entries:
                actions = as_list(statement.get("Action", []))
                targets = as_list(statement.get("Resource", []))
                if actions != [INVOKE_ACTION]:
                    problems.append(f"{src}: the invoke role may do {INVOKE_ACTION} only, got {actions}")
                if ecs_hook is None or len(targets) != 1 or getatt(targets[0]) != ecs_hook:
                    problems.append(
                        f"{src}: {INVOKE_ACTION} must be on !GetAtt {ecs_hook}.Arn alone, got"
                        f" {[f'!GetAtt {getatt(t)}.Arn' if getatt(t) else text_of(t) for t in targets]}"
                    )
                if conditions:
                    problems.append(f"{src}: the invoke role's statement must sit under no condition")
            continue
        # A function's role.
        fnames = role_functions[role]
        if services != {"lambda.amazonaws.com"} or odd:
            problems.append(
                f"{role}: the role of {', '.join(fnames)} must be trusted by lambda.amazonaws.com alone;"
                f" it trusts {sorted(services)} {odd or ''}".rstrip()
            )
        granted = set()
        invokers = set()
        for src, statement, conditions in statements_of[role]:
            if statement.get("Effect") != "Allow":
                continue
            actions = as_list(statement["Action"])
            targets = as_list(statement.get("Resource", []))
            for action in actions:
                granted.add(action)
                if action == INVOKE_ACTION:
                    itself = self_invoker(statement)
                    if itself not in fnames or actions != [INVOKE_ACTION]:
                        problems.append(
                            f"{src}: {INVOKE_ACTION} must be alone in its statement, on one function's own ARN"
                            f" (!GetAtt F.Arn, and ${{F.Arn}}:*) for calls by that function alone"
                            f" (Condition StringLike aws:userid '*:${{F}}'), F one of {', '.join(fnames)}"
                        )
                    invokers.add(itself)
                if "*" in action:
                    problems.append(f"{src}: action {action} is a wildcard: name the actions")
                if "*" in targets and action not in NO_RESOURCE:
                    problems.append(f"{src}: {action} is granted on '*' but takes a resource: name it")
                if action.startswith("codedeploy:") and action not in NO_RESOURCE and not all(
                    mentions(t, "DeploymentGroupArns") for t in targets
                ):
                    problems.append(f"{src}: {action} must be scoped to the DeploymentGroupArns parameter")
                if action in SCOPED:
                    parameter, marker, what = SCOPED[action]
                    if not targets or not all(mentions(t, parameter) and marker in text_of(t) for t in targets):
                        problems.append(f"{src}: {action} must be scoped to {what}")
                if action in SPEC_READS:
                    parameter, condition = SPEC_READS[action]
                    if not targets or not all(mentions(t, parameter) for t in targets):
                        problems.append(f"{src}: {action} must be scoped to the {parameter} parameter")
                    if condition not in conditions:
                        problems.append(f"{src}: {action} must sit under condition {condition}")
                if action in PLATFORM and not all(
                    any(mentions(t, group) for group in own_logs.get(role, ())) for t in targets
                ):
                    problems.append(
                        f"{src}: {action} must be scoped to the log groups of {', '.join(fnames)}"
                        f" ({', '.join(sorted(own_logs.get(role, ()))) or 'none'})"
                    )
        for arn, conditions in branches(managed or []):
            for one in as_list(arn):
                text_arn = str(one)
                allowed = [p for p in MANAGED if text_arn.endswith(f"/{p}") or f"/{p}'" in text_arn]
                if not allowed:
                    problems.append(f"{role}: managed policy {text_arn} is not allowed: grant the actions inline")
                elif MANAGED[allowed[0]] not in conditions:
                    problems.append(f"{role}: managed policy {allowed[0]} must be under condition {MANAGED[allowed[0]]}")
        if INVOKE_ACTION in needs.get(role, set()):
            for fname in fnames:
                if fname != ecs_hook and fname not in invokers:
                    problems.append(f"{role}: {fname} may not invoke itself, so it cannot hand off a long bake")
        wanted = needs.get(role, set())
        for action in sorted(wanted - granted):
            problems.append(f"{role} does not grant {action}, which {', '.join(fnames)} call(s)")
        for action in sorted(granted - wanted - PLATFORM):
            if ecs_hook in fnames and action.startswith("codedeploy:"):
                problems.append(f"{role} is the ECS lifecycle hook's role: it must grant no CodeDeploy action, got {action}")
            else:
                problems.append(f"{role} grants {action}, which none of {', '.join(fnames)} calls")
        for action in sorted(PLATFORM - granted):
            problems.append(f"{role} does not grant {action}: {', '.join(fnames)} could not write logs")
        granted_anywhere |= granted
        summary.append(
            f"{role} ({len(fnames)} function(s)): {len(granted - PLATFORM)} action(s) granted"
            f" (+{len(granted & PLATFORM)} for logs)"
        )
    if ecs_hook is not None and not invoke_roles:
        problems.append(f"{name}: no role lets ECS invoke {ecs_hook} (trusted by ecs.amazonaws.com, {INVOKE_ACTION} on it)")
    for role in invoke_roles:
        summary.append(f"{role}: ECS may invoke {ecs_hook}, nothing else")
    for action in sorted(called - granted_anywhere):
        problems.append(f"{name} does not grant {action}, which the code calls")
    summary.insert(0, f"{len(called)} actions called by the code")
    settings = (ROOT / "shared/src/settings.rs").read_text()
    # The functions' sources: the CodeDeploy hooks' (functions/) and the ECS
    # lifecycle hook's (ecs/, once it exists), and the crates they share.
    folders = ("shared/src", "aws/src", "functions/src", "ecs/src")
    sources = sorted(source for folder in folders if (ROOT / folder).is_dir() for source in (ROOT / folder).rglob("*.rs"))
    read = set()
    for source in sources:
        code = source.read_text()
        # Its variables act only in test builds (feature fault-injection).
        if source.name != "fault_injection.rs":
            read.update(re.findall(r'"(GREENLIGHT_[A-Z_]+)"', code))
        if source.name != "settings.rs" and re.search(r"env::var(_os)?\(", code):
            problems.append(f"{source.relative_to(ROOT)} reads the environment: read it in settings.rs, where this check sees it")
    function = template.get("Globals", {}).get("Function", {})
    variables = function.get("Environment", {}).get("Variables", {})
    logging = function.get("LoggingConfig", {})
    # lambda_runtime's tracing setup reads AWS_LAMBDA_LOG_FORMAT and
    # AWS_LAMBDA_LOG_LEVEL, which Lambda sets from the logging configuration.
    if logging.get("LogFormat") != "JSON" or "ApplicationLogLevel" not in logging:
        problems.append(f"{name}: Globals.Function.LoggingConfig must set LogFormat JSON and ApplicationLogLevel")
    # Asynchronous invocations (CodeDeploy's): a retry re-runs the checks and
    # the bake, so the retries are decided, not Lambda's default of 2, and no
    # event outlives the hour CodeDeploy waits for a status.
    invoke = function.get("EventInvokeConfig", {})
    if invoke.get("MaximumRetryAttempts") not in (0, 1):
        problems.append(f"{name}: Globals.Function.EventInvokeConfig.MaximumRetryAttempts must be 0 or 1")
    if not 60 <= int(invoke.get("MaximumEventAgeInSeconds", 21600)) <= 3600:
        problems.append(f"{name}: Globals.Function.EventInvokeConfig.MaximumEventAgeInSeconds must be at most 3600")
    for var in sorted(read):
        if var not in variables and not (var in UNSET_OK and var in text):
            problems.append(f"{var} is read by the code but neither set nor documented in {name}")
    for var in sorted(variables):
        if var.startswith("GREENLIGHT_") and f'"{var}"' not in settings:
            problems.append(f"{name} sets {var}, which no code reads")
    return summary, problems, notes


def widened(template):
    """Ways to widen the template, each of which the check must refuse."""
    import copy

    def policy(t, role):
        return t["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]

    def statement(t, sid, role="HookRole"):
        document = policy(t, role)
        return next(s for s in document["Statement"] if isinstance(s, dict) and s.get("Sid") == sid)

    def conditional(t, sid, role="HookRole"):
        document = policy(t, role)
        return next(
            entry for entry in document["Statement"]
            if isinstance(entry, dict) and "Fn::If" in entry and entry["Fn::If"][1].get("Sid") == sid
        )

    def unconditional(t, sid, role):
        document = policy(t, role)
        document["Statement"] = [
            entry["Fn::If"][1] if isinstance(entry, dict) and "Fn::If" in entry
            and entry["Fn::If"][1].get("Sid") == sid else entry
            for entry in document["Statement"]
        ]

    def trust(t, role):
        return t["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]

    # The CodeDeploy hooks' role.
    def star_resource(t):
        statement(t, "GreenTaskSet")["Resource"] = "*"

    def extra_action(t):
        statement(t, "ReportAndDiscover")["Action"].append("codedeploy:CreateDeployment")

    def wildcard_action(t):
        statement(t, "LoadBalancerReads")["Action"] = "elasticloadbalancing:*"

    def report_anywhere(t):
        statement(t, "ReportAndDiscover")["Resource"] = "arn:aws:codedeploy:*:*:deploymentgroup:*"

    def admin(t):
        t["Resources"]["HookRole"]["Properties"]["ManagedPolicyArns"] = [
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ]

    def logs_anywhere(t):
        t["Resources"]["HookLogs"]["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] = "*"

    def any_object(t):
        conditional(t, "SpecObject")["Fn::If"][1]["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:s3:::*"}

    def object_always(t):
        unconditional(t, "SpecObject", "HookRole")

    def default_retries(t):
        del t["Globals"]["Function"]["EventInvokeConfig"]

    def undocumented_variable(t):
        del t["Globals"]["Function"]["Environment"]["Variables"]["GREENLIGHT_SPEC_PARAMETER"]

    # The ECS lifecycle hook's role.
    def ecs_hook_reports_to_codedeploy(t):
        policy(t, "EcsHookRole")["Statement"].append({
            "Sid": "Report", "Effect": "Allow",
            "Action": "codedeploy:PutLifecycleEventHookExecutionStatus",
            "Resource": {"Ref": "DeploymentGroupArns"},
        })

    def ecs_hook_reads_task_sets(t):
        policy(t, "EcsHookRole")["Statement"].append(copy.deepcopy(statement(t, "GreenTaskSet")))

    def ecs_hook_wildcard_action(t):
        statement(t, "ServiceRevisions", "EcsHookRole")["Action"] = "ecs:Describe*"

    def ecs_deployments_anywhere(t):
        statement(t, "ServiceDeployments", "EcsHookRole")["Resource"] = "*"

    def ecs_revisions_of_any_service(t):
        statement(t, "ServiceRevisions", "EcsHookRole")["Resource"] = {
            "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service-revision/*"
        }

    def ecs_deployments_on_services(t):
        # The services themselves, not their deployments: the wrong resource type.
        statement(t, "ServiceDeployments", "EcsHookRole")["Resource"] = {"Ref": "EcsServiceArns"}

    def ecs_hook_any_alarm(t):
        statement(t, "Alarms", "EcsHookRole")["Resource"] = {
            "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"
        }

    def ecs_hook_parameter_always(t):
        unconditional(t, "SpecParameter", "EcsHookRole")

    def ecs_hook_writes_others_logs(t):
        t["Resources"]["EcsHookLogs"]["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] = [
            {"Fn::GetAtt": ["EcsLifecycleHookLogs", "Arn"]},
            {"Fn::GetAtt": ["AfterAllowTrafficLogs", "Arn"]},
        ]

    def ecs_hook_admin(t):
        t["Resources"]["EcsHookRole"]["Properties"]["ManagedPolicyArns"] = [
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ]

    def ecs_hook_shares_role(t):
        t["Resources"]["EcsLifecycleHook"]["Properties"]["Role"] = {"Fn::GetAtt": ["HookRole", "Arn"]}

    def ecs_hook_role_trusts_tasks(t):
        trust(t, "EcsHookRole")["Principal"] = {"Service": ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"]}

    # The role ECS assumes to invoke the ECS lifecycle hook.
    def invoke_any_function(t):
        statement(t, "InvokeEcsLifecycleHook", "EcsHookInvokeRole")["Resource"] = {
            "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:*"
        }

    def invoke_a_codedeploy_hook(t):
        statement(t, "InvokeEcsLifecycleHook", "EcsHookInvokeRole")["Resource"] = [
            {"Fn::GetAtt": ["EcsLifecycleHook", "Arn"]},
            {"Fn::GetAtt": ["AfterAllowTrafficHook", "Arn"]},
        ]

    def invoke_and_update(t):
        statement(t, "InvokeEcsLifecycleHook", "EcsHookInvokeRole")["Action"] = [
            "lambda:InvokeFunction", "lambda:UpdateFunctionCode"
        ]

    def invoke_role_extra_statement(t):
        policy(t, "EcsHookInvokeRole")["Statement"].append(
            {"Sid": "Read", "Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}
        )

    def invoke_role_trusts_lambda(t):
        trust(t, "EcsHookInvokeRole")["Principal"] = {"Service": ["ecs.amazonaws.com", "lambda.amazonaws.com"]}

    def invoke_role_trusts_account(t):
        trust(t, "EcsHookInvokeRole")["Principal"] = {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}

    def invoke_role_managed_policy(t):
        t["Resources"]["EcsHookInvokeRole"]["Properties"]["ManagedPolicyArns"] = [
            "arn:aws:iam::aws:policy/service-role/AWSLambdaRole"
        ]

    def invoke_role_policy_resource(t):
        t["Resources"]["EcsHookInvokeExtra"] = {
            "Type": "AWS::IAM::RolePolicy",
            "Properties": {
                "RoleName": {"Ref": "EcsHookInvokeRole"},
                "PolicyName": "extra",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "lambda:InvokeFunction",
                     "Resource": {"Fn::GetAtt": ["AfterAllowTrafficHook", "Arn"]}}
                ]},
            },
        }

    def no_invoke_role(t):
        del t["Resources"]["EcsHookInvokeRole"]

    # The CodeDeploy hooks' hand-off to themselves, and their metric reads.
    def hand_off(t, sid):
        statements = t["Resources"]["HookHandOff"]["Properties"]["PolicyDocument"]["Statement"]
        return next(s for s in statements if s.get("Sid") == sid)

    def hook_invokes_any_function(t):
        hand_off(t, "AfterAllowTrafficInvokesItself")["Resource"] = "*"

    def hook_invokes_another_hook(t):
        hand_off(t, "AfterAllowTrafficInvokesItself")["Resource"] = [
            {"Fn::GetAtt": ["AfterAllowTrafficHook", "Arn"]},
            {"Fn::GetAtt": ["BeforeAllowTrafficHook", "Arn"]},
        ]

    def hook_invokes_the_ecs_hook(t):
        hand_off(t, "AfterAllowTrafficInvokesItself")["Resource"] = {"Fn::GetAtt": ["EcsLifecycleHook", "Arn"]}

    def any_hook_may_call(t):
        del hand_off(t, "AfterAllowTrafficInvokesItself")["Condition"]

    def another_hook_may_call(t):
        hand_off(t, "AfterAllowTrafficInvokesItself")["Condition"]["StringLike"]["aws:userid"] = {
            "Fn::Sub": "*:${BeforeAllowTrafficHook}"
        }

    def invoke_and_update_itself(t):
        hand_off(t, "AfterAllowTrafficInvokesItself")["Action"] = [
            "lambda:InvokeFunction", "lambda:UpdateFunctionCode"
        ]

    def no_hand_off_for_one_hook(t):
        statements = t["Resources"]["HookHandOff"]["Properties"]["PolicyDocument"]["Statement"]
        statements[:] = [s for s in statements if s.get("Sid") != "BeforeAllowTrafficInvokesItself"]

    def no_metric_reads(t):
        document = policy(t, "HookRole")
        document["Statement"] = [s for s in document["Statement"] if not (isinstance(s, dict) and s.get("Sid") == "BakeMetrics")]

    for change in (star_resource, extra_action, wildcard_action, report_anywhere, admin,
                   logs_anywhere, any_object, object_always, default_retries, undocumented_variable,
                   ecs_hook_reports_to_codedeploy, ecs_hook_reads_task_sets, ecs_hook_wildcard_action,
                   ecs_deployments_anywhere, ecs_revisions_of_any_service, ecs_deployments_on_services,
                   ecs_hook_any_alarm, ecs_hook_parameter_always, ecs_hook_writes_others_logs,
                   ecs_hook_admin, ecs_hook_shares_role, ecs_hook_role_trusts_tasks,
                   invoke_any_function, invoke_a_codedeploy_hook, invoke_and_update,
                   invoke_role_extra_statement, invoke_role_trusts_lambda, invoke_role_trusts_account,
                   invoke_role_managed_policy, invoke_role_policy_resource, no_invoke_role,
                   hook_invokes_any_function, hook_invokes_another_hook, hook_invokes_the_ecs_hook,
                   any_hook_may_call, another_hook_may_call, invoke_and_update_itself,
                   no_hand_off_for_one_hook, no_metric_reads):
        copied = copy.deepcopy(template)
        change(copied)
        yield change.__name__, copied


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = pathlib.Path(args[0]) if args else ROOT / "template.yaml"
    template = load(path)
    raw = path.read_text()
    if "--self-test" in sys.argv:
        missed = tried = 0
        _, baseline, _ = check(template, path.name, raw)
        for change, copied in widened(template):
            _, found, _ = check(copied, path.name, raw)
            found = [p for p in found if p not in baseline]
            print(f"widened by {change}: {found[0] if found else 'NOT CAUGHT'}")
            missed += not found
            tried += 1
        print(f"template policy self-test: {tried} widenings, {missed} not caught")
        sys.exit(1 if missed else 0)
    summary, problems, notes = check(template, path.name, raw)
    for problem in problems:
        print(problem)
    for note in notes:
        print(note)
    print(f"template policy: {'; '.join(summary)}; {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
