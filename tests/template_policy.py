"""Checks template.yaml against the code: the hooks' IAM policy grants exactly
the AWS actions the code calls, uses `*` only where an action takes no
resource, and every GREENLIGHT_* variable the code reads is set or documented
in the template. Run by `make lint`; exits 1 with one line per problem."""

import pathlib
import re
import sys

import cfnlint.decode

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The adapters are where AWS is called; each names its IAM action.
ADAPTERS = [ROOT / "shared/src/cloud/sdk.rs", ROOT / "shared/src/report.rs"]
ACTION = re.compile(r'"((?:codedeploy|ecs|elasticloadbalancing|cloudwatch):[A-Za-z]+)"')
# Actions that accept no resource-level permission: "*" is the only choice.
NO_RESOURCE = {
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTargetHealth",
    "cloudwatch:GetMetricData",
}


def as_list(value):
    return value if isinstance(value, list) else [value]


def main():
    problems = []
    called = set()
    for path in ADAPTERS:
        called.update(ACTION.findall(path.read_text()))
    text = (ROOT / "template.yaml").read_text()
    template, errors = cfnlint.decode.decode_str(text)
    if errors:
        sys.exit(f"template.yaml does not parse: {errors}")
    granted = set()
    for name, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = as_list(statement["Action"])
                resources = as_list(statement["Resource"])
                for action in actions:
                    granted.add(action)
                    if "*" in action:
                        problems.append(f"{name}: action {action} is a wildcard: name the actions")
                    if "*" in resources and action not in NO_RESOURCE:
                        problems.append(f"{name}: {action} is granted on '*' but takes a resource: name it")
    for action in sorted(called - granted):
        problems.append(f"template.yaml does not grant {action}, which the code calls")
    for action in sorted(granted - called):
        problems.append(f"template.yaml grants {action}, which no code calls")
    settings = (ROOT / "shared/src/settings.rs").read_text()
    for var in sorted(set(re.findall(r'"(GREENLIGHT_[A-Z_]+)"', settings))):
        if var not in text:
            problems.append(f"{var} is read by the code but neither set nor documented in template.yaml")
    for problem in problems:
        print(problem)
    print(f"template policy: {len(called)} actions called, {len(granted)} granted, {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
