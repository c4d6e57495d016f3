"""Checks the deployment examples against what CodeDeploy and the hooks need:
the AppSpec names the three ECS hook events in lifecycle order with functions
named CodeDeployHook_*, which the managed policy AWSCodeDeployRoleForECSLimited
lets CodeDeploy invoke; the example stack gives its deployment group a role
with that policy, nests the hooks'
template, gives them its deployment group, alarms and automatic rollback,
and carries the same spec as examples/stack-spec.json (which the Rust schema
test validates). Run by `make lint`; exits 1 with one line per problem."""

import json
import pathlib
import sys

import cfnlint.decode
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HOOKS = ["AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic"]


def check_appspec(problems):
    appspec = yaml.safe_load((EXAMPLES / "appspec.yaml").read_text())
    if str(appspec.get("version")) != "0.0":
        problems.append("appspec.yaml: version must be 0.0")
    resources = appspec.get("Resources") or []
    services = [next(iter(r.values())) for r in resources]
    if len(services) != 1 or services[0].get("Type") != "AWS::ECS::Service":
        problems.append("appspec.yaml: expected one resource of Type AWS::ECS::Service")
    else:
        info = services[0].get("Properties", {}).get("LoadBalancerInfo", {})
        for key in ("ContainerName", "ContainerPort"):
            if key not in info:
                problems.append(f"appspec.yaml: LoadBalancerInfo.{key} is missing")
    hooks = [next(iter(h.items())) for h in appspec.get("Hooks") or []]
    if [event for event, _ in hooks] != HOOKS:
        problems.append(f"appspec.yaml: Hooks must be {HOOKS} in this order, got {[e for e, _ in hooks]}")
    for event, function in hooks:
        if not str(function).startswith("CodeDeployHook_"):
            problems.append(f"appspec.yaml: {event} function {function!r} must start with CodeDeployHook_")
        elif event not in str(function):
            problems.append(f"appspec.yaml: {event} points at {function!r}, another hook's function")


def check_stack(problems):
    path = EXAMPLES / "ecs-bluegreen-stack.yaml"
    template, errors = cfnlint.decode.decode_str(path.read_text())
    if errors:
        problems.append(f"{path.name} does not parse: {errors}")
        return
    resources = template["Resources"]

    def of_type(kind):
        return {n: r.get("Properties", {}) for n, r in resources.items() if r.get("Type") == kind}

    apps = of_type("AWS::Serverless::Application")
    if [p.get("Location") for p in apps.values()] != ["../template.yaml"]:
        problems.append(f"{path.name}: expected one nested application at ../template.yaml")
    nested = next(iter(apps.values()), {}).get("Parameters", {})
    for name in ("DeploymentGroupArns", "EcsServiceArns"):
        if name not in nested:
            problems.append(f"{path.name}: the hooks need parameter {name}")
    groups = list(of_type("AWS::CodeDeploy::DeploymentGroup").values())
    if len(groups) != 1:
        problems.append(f"{path.name}: expected one deployment group")
        return
    group = groups[0]
    if group.get("DeploymentStyle") != {"DeploymentType": "BLUE_GREEN", "DeploymentOption": "WITH_TRAFFIC_CONTROL"}:
        problems.append(f"{path.name}: the deployment group must be BLUE_GREEN WITH_TRAFFIC_CONTROL")
    alarms = group.get("AlarmConfiguration", {})
    if not alarms.get("Enabled") or not alarms.get("Alarms"):
        problems.append(f"{path.name}: the deployment group must watch alarms")
    rollback = group.get("AutoRollbackConfiguration", {})
    if not rollback.get("Enabled") or set(rollback.get("Events", [])) != {"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"}:
        problems.append(f"{path.name}: auto-rollback must be on for DEPLOYMENT_FAILURE and DEPLOYMENT_STOP_ON_ALARM")
    pairs = group.get("LoadBalancerInfo", {}).get("TargetGroupPairInfoList", [])
    if not pairs or "TestTrafficRoute" not in pairs[0] or len(pairs[0].get("TargetGroups", [])) != 2:
        problems.append(f"{path.name}: the deployment group needs two target groups and a test listener")
    services = list(of_type("AWS::ECS::Service").values())
    if [s.get("DeploymentController") for s in services] != [{"Type": "CODE_DEPLOY"}]:
        problems.append(f"{path.name}: the ECS service must use the CODE_DEPLOY deployment controller")
    # The service role: least privilege, which still invokes CodeDeployHook_*.
    role_name = (group.get("ServiceRoleArn") or {}).get("Fn::GetAtt", [""])[0]
    role = resources.get(role_name, {}).get("Properties", {})
    managed = [str(arn) for arn in role.get("ManagedPolicyArns", [])]
    if len(managed) != 1 or not managed[0].rstrip("'}\"").endswith("/AWSCodeDeployRoleForECSLimited"):
        problems.append(
            f"{path.name}: the deployment group's role must attach AWSCodeDeployRoleForECSLimited alone"
            f" (invokes CodeDeployHook_* only), got {managed}"
        )
    parameters = list(of_type("AWS::SSM::Parameter").values())
    expected = json.loads((EXAMPLES / "stack-spec.json").read_text())
    if len(parameters) != 1:
        problems.append(f"{path.name}: expected the spec in one SSM parameter")
    elif json.loads(parameters[0]["Value"]) != expected:
        problems.append(f"{path.name}: the SSM spec differs from examples/stack-spec.json")


def main():
    problems = []
    check_appspec(problems)
    check_stack(problems)
    for problem in problems:
        print(problem)
    print(f"examples: appspec.yaml and ecs-bluegreen-stack.yaml, {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
