"""Checks template.yaml against the code: the hooks' IAM policies grant exactly
the AWS actions the code calls (plus writing their own logs), use `*` only
where an action takes no resource, scope the CodeDeploy actions to the
deployment groups given as a parameter, let the spec reads reach only the
spec's own SSM parameter or S3 object (and only when it is set), attach no
managed policy but the VPC one under its condition, decide the asynchronous
retries (at most one, no event older than CodeDeploy's hour), and every
GREENLIGHT_* variable the code reads is
set or documented in the template. Run by `make lint`; exits 1 with one line
per problem.

    python tests/template_policy.py [template.yaml]
"""

import pathlib
import re
import sys

import cfnlint.decode

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The adapters are where AWS is called; each names its IAM action.
ADAPTERS = sorted((ROOT / "aws/src").glob("*.rs"))
ACTION = re.compile(r'"((?:codedeploy|ecs|elasticloadbalancing|cloudwatch|ssm|s3):[A-Za-z]+)"')
# Actions that accept no resource-level permission: "*" is the only choice.
NO_RESOURCE = {
    "codedeploy:ListDeploymentTargets",
    "codedeploy:BatchGetDeploymentTargets",
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


def load(path):
    template, errors = cfnlint.decode.decode_str(path.read_text())
    if errors:
        sys.exit(f"{name} does not parse: {errors}")
    return template


def check(template, name="template.yaml", raw=""):
    problems = []
    called = set()
    for adapter in ADAPTERS:
        called.update(ACTION.findall(adapter.read_text()))
    text = raw or str(template)
    resources = template["Resources"]
    log_groups = {n for n, r in resources.items() if r.get("Type") == "AWS::Logs::LogGroup"}
    granted = set()
    for rname, resource in resources.items():
        for statement, conditions in statements(resource):
            if statement.get("Effect") != "Allow":
                continue
            actions = as_list(statement["Action"])
            targets = as_list(statement.get("Resource", []))
            for action in actions:
                granted.add(action)
                if "*" in action:
                    problems.append(f"{rname}: action {action} is a wildcard: name the actions")
                if "*" in targets and action not in NO_RESOURCE:
                    problems.append(f"{rname}: {action} is granted on '*' but takes a resource: name it")
                if action.startswith("codedeploy:") and action not in NO_RESOURCE and not all(
                    mentions(t, "DeploymentGroupArns") for t in targets
                ):
                    problems.append(f"{rname}: {action} must be scoped to the DeploymentGroupArns parameter")
                if action == "ecs:DescribeTaskSets" and not all(
                    mentions(t, "EcsServiceArns") for t in targets
                ):
                    problems.append(f"{rname}: {action} must be scoped to the task sets of EcsServiceArns")
                if action in SPEC_READS:
                    parameter, condition = SPEC_READS[action]
                    if not targets or not all(mentions(t, parameter) for t in targets):
                        problems.append(f"{rname}: {action} must be scoped to the {parameter} parameter")
                    if condition not in conditions:
                        problems.append(f"{rname}: {action} must sit under condition {condition}")
                if action in PLATFORM and not all(
                    any(mentions(t, group) for group in log_groups) for t in targets
                ):
                    problems.append(f"{rname}: {action} must be scoped to the template's log groups")
        if resource.get("Type") == "AWS::IAM::Role":
            for arn, conditions in branches(resource["Properties"].get("ManagedPolicyArns", [])):
                for one in as_list(arn):
                    text_arn = str(one)
                    allowed = [p for p in MANAGED if text_arn.endswith(f"/{p}") or f"/{p}'" in text_arn]
                    if not allowed:
                        problems.append(f"{rname}: managed policy {text_arn} is not allowed: grant the actions inline")
                    elif MANAGED[allowed[0]] not in conditions:
                        problems.append(f"{rname}: managed policy {allowed[0]} must be under condition {MANAGED[allowed[0]]}")
    for action in sorted(called - granted):
        problems.append(f"{name} does not grant {action}, which the code calls")
    for action in sorted(granted - called - PLATFORM):
        problems.append(f"{name} grants {action}, which no code calls")
    settings = (ROOT / "shared/src/settings.rs").read_text()
    sources = sorted(source for folder in ("shared/src", "aws/src", "functions/src") for source in (ROOT / folder).rglob("*.rs"))
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
    return called, granted, problems


def widened(template):
    """Ways to widen the template, each of which the check must refuse."""
    import copy

    def statement(t, sid):
        document = t["Resources"]["HookRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        return next(s for s in document["Statement"] if isinstance(s, dict) and s.get("Sid") == sid)

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
        document = t["Resources"]["HookRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        for entry in document["Statement"]:
            if isinstance(entry, dict) and "Fn::If" in entry and entry["Fn::If"][1].get("Sid") == "SpecObject":
                entry["Fn::If"][1]["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:s3:::*"}

    def object_always(t):
        document = t["Resources"]["HookRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        document["Statement"] = [
            entry["Fn::If"][1] if isinstance(entry, dict) and "Fn::If" in entry
            and entry["Fn::If"][1].get("Sid") == "SpecObject" else entry
            for entry in document["Statement"]
        ]

    def default_retries(t):
        del t["Globals"]["Function"]["EventInvokeConfig"]

    def undocumented_variable(t):
        del t["Globals"]["Function"]["Environment"]["Variables"]["GREENLIGHT_SPEC_PARAMETER"]

    for change in (star_resource, extra_action, wildcard_action, report_anywhere, admin,
                   logs_anywhere, any_object, object_always, default_retries, undocumented_variable):
        copied = copy.deepcopy(template)
        change(copied)
        yield change.__name__, copied


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = pathlib.Path(args[0]) if args else ROOT / "template.yaml"
    template = load(path)
    raw = path.read_text()
    if "--self-test" in sys.argv:
        missed = 0
        baseline = check(template, path.name, raw)[2]
        for change, copied in widened(template):
            _, _, found = check(copied, path.name, raw)
            found = [p for p in found if p not in baseline]
            print(f"widened by {change}: {found[0] if found else 'NOT CAUGHT'}")
            missed += not found
        print(f"template policy self-test: {missed} widening(s) not caught")
        sys.exit(1 if missed else 0)
    called, granted, problems = check(template, path.name, raw)
    for problem in problems:
        print(problem)
    print(
        f"template policy: {len(called)} actions called, {len(granted - PLATFORM)} granted"
        f" (+{len(granted & PLATFORM)} for logs), {len(problems)} problem(s)"
    )
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
