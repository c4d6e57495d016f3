"""Checks the deployment examples against what CodeDeploy and the hooks need:
the AppSpec names the three ECS hook events in lifecycle order with functions
named CodeDeployHook_*, which the managed policy AWSCodeDeployRoleForECSLimited
lets CodeDeploy invoke; the example stack gives its deployment group a role
with that policy, nests the hooks'
template, gives them its deployment group, alarms and automatic rollback,
and carries the same spec as examples/stack-spec.json (which the Rust schema
test validates). The ECS-native example stack deploys its service with the
ECS deployment controller and the BLUE_GREEN strategy, with a bake time, an
alarm that rolls back, a production and a test listener rule each
forwarding to both target groups, the infrastructure role ECS changes them
with (AmazonECSInfrastructureRolePolicyForLoadBalancers alone), and one
lifecycle hook at the stages greenlight handles, whose HookTargetArn and
RoleArn are the parameters named after the template.yaml outputs that give
them (the ECS lifecycle hook's ARN, the role ECS may invoke it with). Run by
`make lint`; exits 1 with one line per problem."""

import json
import pathlib
import sys

import cfnlint.decode
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HOOKS = ["AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic"]
# The ECS lifecycle stages the ECS-native example runs the hook at: the three
# whose moments have checks, and the two traffic shifts (which a rollback
# runs again).
ECS_STAGES = {
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
}
# Where the engine names the ECS stages it knows.
ECS_STAGE_SOURCE = ROOT / "shared/src/hook.rs"
# template.yaml's outputs the ECS-native example takes as parameters (of the
# same names), and the LifecycleHooks field each goes to.
HOOK_OUTPUTS = {"EcsLifecycleHookArn": "HookTargetArn", "EcsHookInvokeRoleArn": "RoleArn"}
ECS_HOOK_BINARY = "ecs-lifecycle-hook"


def decode(path, problems):
    template, errors = cfnlint.decode.decode_str(path.read_text())
    if errors:
        problems.append(f"{path.name} does not parse: {errors}")
        return None
    return template


def ref(value):
    """The name in {"Ref": NAME}, else None."""
    return value.get("Ref") if isinstance(value, dict) and list(value) == ["Ref"] else None


def getatt_arn(value):
    """The resource in !GetAtt NAME.Arn, else None."""
    if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
        target = value["Fn::GetAtt"]
        target = target if isinstance(target, list) else target.split(".", 1)
        if len(target) == 2 and target[1] == "Arn":
            return target[0]
    return None


def trusts(role, service):
    """Whether a role's trust policy lets exactly this service assume it."""
    statements = role.get("Properties", {}).get("AssumeRolePolicyDocument", {}).get("Statement", [])
    principals = [s.get("Principal") for s in statements if s.get("Effect") == "Allow"]
    return principals == [{"Service": service}] or principals == [{"Service": [service]}]


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


def check_hook_outputs(problems):
    """template.yaml's outputs for the ECS lifecycle hook: the function of
    binary ecs-lifecycle-hook, and the role ECS may invoke it with."""
    template = decode(ROOT / "template.yaml", problems)
    if template is None:
        return
    resources, outputs = template["Resources"], template.get("Outputs", {})
    hook = getatt_arn(outputs.get("EcsLifecycleHookArn", {}).get("Value"))
    binary = resources.get(hook, {}).get("Metadata", {}).get("BuildProperties", {}).get("Binary")
    if binary != ECS_HOOK_BINARY:
        problems.append(f"template.yaml: output EcsLifecycleHookArn must be !GetAtt of the function of binary {ECS_HOOK_BINARY}")
    role_name = getatt_arn(outputs.get("EcsHookInvokeRoleArn", {}).get("Value"))
    role = resources.get(role_name, {})
    if role.get("Type") != "AWS::IAM::Role" or not trusts(role, "ecs.amazonaws.com"):
        problems.append("template.yaml: output EcsHookInvokeRoleArn must be !GetAtt of a role trusted by ecs.amazonaws.com")
    elif hook and f"'{hook}'" not in str(role.get("Properties", {}).get("Policies")):
        problems.append(f"template.yaml: the role of output EcsHookInvokeRoleArn must let ECS invoke {hook}")
    for name, field in HOOK_OUTPUTS.items():
        description = outputs.get(name, {}).get("Description", "")
        if "LifecycleHooks" not in description or field not in description:
            problems.append(f"template.yaml: output {name}'s description must say it goes to LifecycleHooks as {field}")


def check_native_stack(problems):
    path = EXAMPLES / "ecs-native-stack.yaml"
    template = decode(path, problems)
    if template is None:
        return
    resources, parameters = template["Resources"], template.get("Parameters", {})

    def of_type(kind):
        return {n: r.get("Properties", {}) for n, r in resources.items() if r.get("Type") == kind}

    for name in HOOK_OUTPUTS:
        if name not in parameters:
            problems.append(f"{path.name}: parameter {name} (the greenlight stack's output of that name) is missing")
        elif "Default" in parameters[name]:
            problems.append(f"{path.name}: parameter {name} takes the greenlight stack's output: no Default")
    if of_type("AWS::Serverless::Application") or of_type("AWS::CloudFormation::Stack"):
        problems.append(f"{path.name}: takes the hook from the greenlight stack's outputs; nests no stack")
    services = list(of_type("AWS::ECS::Service").values())
    if len(services) != 1:
        problems.append(f"{path.name}: expected one ECS service")
        return
    service = services[0]
    if service.get("DeploymentController") != {"Type": "ECS"}:
        problems.append(f"{path.name}: the ECS service must use the ECS deployment controller")
    config = service.get("DeploymentConfiguration", {})
    if config.get("Strategy") != "BLUE_GREEN":
        problems.append(f"{path.name}: the deployment strategy must be BLUE_GREEN")
    if "BakeTimeInMinutes" not in config:
        problems.append(f"{path.name}: the deployment configuration must set BakeTimeInMinutes")
    alarms = config.get("Alarms", {})
    if not alarms.get("Enable") or not alarms.get("Rollback") or not alarms.get("AlarmNames"):
        problems.append(f"{path.name}: the deployment must watch alarms and roll back on them")
    hooks = config.get("LifecycleHooks", [])
    if len(hooks) != 1:
        problems.append(f"{path.name}: expected one lifecycle hook, got {len(hooks)}")
    for hook in hooks:
        for name, field in HOOK_OUTPUTS.items():
            if ref(hook.get(field)) != name:
                problems.append(f"{path.name}: the lifecycle hook's {field} must be !Ref {name}, got {hook.get(field)}")
        stages = hook.get("LifecycleStages", [])
        if set(stages) != ECS_STAGES or len(stages) != len(ECS_STAGES):
            problems.append(f"{path.name}: the lifecycle hook's stages must be {sorted(ECS_STAGES)}, got {stages}")
    known = ECS_STAGE_SOURCE.read_text() if ECS_STAGE_SOURCE.exists() else ""
    for stage in sorted(ECS_STAGES):
        if f'"{stage}"' not in known:
            problems.append(f"{path.name}: stage {stage} is not one {ECS_STAGE_SOURCE.relative_to(ROOT)} names")

    # Blue/green over an Application Load Balancer: two target groups, a
    # production and a test listener rule forwarding to both, and the role
    # ECS shifts their weights with.
    balancers = service.get("LoadBalancers", [])
    if len(balancers) != 1:
        problems.append(f"{path.name}: expected one load balancer entry on the service")
        return
    entry = balancers[0]
    advanced = entry.get("AdvancedConfiguration", {})
    groups = {ref(entry.get("TargetGroupArn")), ref(advanced.get("AlternateTargetGroupArn"))}
    target_groups = of_type("AWS::ElasticLoadBalancingV2::TargetGroup")
    if len(groups) != 2 or not groups <= set(target_groups):
        problems.append(f"{path.name}: TargetGroupArn and AlternateTargetGroupArn must be two target groups of the stack")
    rules = of_type("AWS::ElasticLoadBalancingV2::ListenerRule")
    listeners = []
    for field in ("ProductionListenerRule", "TestListenerRule"):
        rule = rules.get(ref(advanced.get(field)))
        if rule is None:
            problems.append(f"{path.name}: AdvancedConfiguration.{field} must be !Ref a listener rule of the stack")
            continue
        listeners.append(ref(rule.get("ListenerArn")))
        forwards = [a for a in rule.get("Actions", []) if a.get("Type") == "forward"]
        targets = {ref(g.get("TargetGroupArn")) for f in forwards for g in f.get("ForwardConfig", {}).get("TargetGroups", [])}
        if len(forwards) != 1 or len(rule.get("Actions", [])) != 1 or targets != groups:
            problems.append(f"{path.name}: the {field} must forward, and only forward, to both target groups")
    if len(listeners) == 2 and (listeners[0] == listeners[1] or None in listeners):
        problems.append(f"{path.name}: the production and test listener rules must be on two listeners of the stack")
    role = resources.get(getatt_arn(advanced.get("RoleArn")), {})
    managed = [str(arn) for arn in role.get("Properties", {}).get("ManagedPolicyArns", [])]
    if (role.get("Type") != "AWS::IAM::Role" or not trusts(role, "ecs.amazonaws.com") or len(managed) != 1
            or not managed[0].rstrip("'}\"").endswith("/AmazonECSInfrastructureRolePolicyForLoadBalancers")):
        problems.append(
            f"{path.name}: AdvancedConfiguration.RoleArn must be a role trusted by ecs.amazonaws.com with"
            f" AmazonECSInfrastructureRolePolicyForLoadBalancers alone, got {managed}"
        )


def main():
    problems = []
    check_appspec(problems)
    check_stack(problems)
    check_hook_outputs(problems)
    check_native_stack(problems)
    for problem in problems:
        print(problem)
    print(
        "examples: appspec.yaml, ecs-bluegreen-stack.yaml, ecs-native-stack.yaml and template.yaml's"
        f" ECS hook outputs, {len(problems)} problem(s)"
    )
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
