//! The ELB side of a test world in moto: the default network, an ALB, target
//! groups and listeners. Both worlds (CodeDeploy's and ECS-native) build
//! theirs from these.

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types as elb;

/// An internet-facing ALB in the network's two subnets: its ARN and DNS name.
pub(crate) async fn create_alb(client: &Client, network: &Network, name: &str) -> (String, String) {
    let load_balancer = client
        .create_load_balancer()
        .name(name)
        .subnets(&network.subnets[0])
        .subnets(&network.subnets[1])
        .scheme(elb::LoadBalancerSchemeEnum::InternetFacing)
        .r#type(elb::LoadBalancerTypeEnum::Application)
        .send()
        .await
        .expect("CreateLoadBalancer")
        .load_balancers
        .unwrap_or_default()
        .into_iter()
        .next()
        .expect("a load balancer");
    (
        load_balancer.load_balancer_arn.expect("an ALB ARN"),
        load_balancer.dns_name.expect("an ALB DNS name"),
    )
}

/// An HTTP target group of IP targets on `port`: its ARN.
pub(crate) async fn create_target_group(
    client: &Client,
    network: &Network,
    name: &str,
    port: u16,
    health_check_path: Option<&str>,
) -> String {
    client
        .create_target_group()
        .name(name)
        .protocol(elb::ProtocolEnum::Http)
        .port(i32::from(port))
        .vpc_id(&network.vpc)
        .target_type(elb::TargetTypeEnum::Ip)
        .set_health_check_path(health_check_path.map(str::to_owned))
        .send()
        .await
        .expect("CreateTargetGroup")
        .target_groups
        .unwrap_or_default()
        .into_iter()
        .next()
        .and_then(|tg| tg.target_group_arn)
        .expect("a target group ARN")
}

/// An HTTP listener on `port` with one default action: its ARN.
pub(crate) async fn create_listener(
    client: &Client,
    load_balancer_arn: &str,
    port: u16,
    action: elb::Action,
) -> String {
    client
        .create_listener()
        .load_balancer_arn(load_balancer_arn)
        .protocol(elb::ProtocolEnum::Http)
        .port(i32::from(port))
        .default_actions(action)
        .send()
        .await
        .expect("CreateListener")
        .listeners
        .unwrap_or_default()
        .into_iter()
        .next()
        .and_then(|l| l.listener_arn)
        .expect("a listener ARN")
}

/// moto's default VPC and two of its subnets.
pub(crate) struct Network {
    pub(crate) vpc: String,
    pub(crate) subnets: [String; 2],
}

/// Reads the default VPC's subnets with one raw EC2 query call: the EC2 SDK
/// crate is too big to build for this. moto routes by the service in the
/// `Authorization` header's credential scope, and checks no signature.
pub(crate) async fn default_network(endpoint: &str) -> Network {
    let xml = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("HTTP client")
        .post(endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, \
             SignedHeaders=host, Signature=0",
        )
        .body("Action=DescribeSubnets&Version=2016-11-15")
        .send()
        .await
        .expect("EC2 DescribeSubnets")
        .text()
        .await
        .expect("EC2 DescribeSubnets body");
    let subnets = elements(&xml, "subnetId");
    let vpc = elements(&xml, "vpcId").into_iter().next();
    match (vpc, subnets.as_slice()) {
        (Some(vpc), [first, second, ..]) => Network {
            vpc,
            subnets: [first.clone(), second.clone()],
        },
        _ => panic!("moto's default VPC has no two subnets:\n{xml}"),
    }
}

/// The text of every `<name>…</name>` element, in order.
fn elements(xml: &str, name: &str) -> Vec<String> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    xml.split(open.as_str())
        .skip(1)
        .filter_map(|rest| {
            rest.split_once(close.as_str())
                .map(|(text, _)| text.to_owned())
        })
        .collect()
}
