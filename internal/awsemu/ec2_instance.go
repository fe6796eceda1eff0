package awsemu

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// instanceXML writes one instancesSet item as EC2 answers it for a typical
// instance launched by an Auto Scaling group from a launch template in a
// VPC: every member EC2 returns (network interface, volumes, the tags AWS
// adds, CPU, maintenance and DNS options, ...), not only the few the fleet
// report reads. A reader's memory and CPU are measured on this shape (about
// 4 KB an instance, as in EC2's answers; EC2 also indents its XML, which
// is whitespace the decoder skips). Values are derived from the instance ID
// so that an answer is the same every time. Callers hold s.mu.
func (s *Server) instanceXML(x *xb, req *request, in *Instance, profileIDs map[string]string) {
	n := idHash(in.ID)
	hex17 := func(salt uint64) string {
		return fmt.Sprintf("%017x", (n^salt*0x9e3779b97f4a7c15)&0xfffffffffffffff)[:17]
	}
	az := req.region + string(rune('a'+n%3))
	privIP := fmt.Sprintf("10.%d.%d.%d", n>>8&255, n>>16&255, n>>24&255|1)
	privDNS := "ip-" + strings.ReplaceAll(privIP, ".", "-") + "." + req.region + ".compute.internal"
	// Most fleet instances sit in private subnets; one in four has a
	// public address (and then the association blocks that come with it).
	var pubIP, pubDNS string
	if n%4 == 0 {
		pubIP = fmt.Sprintf("54.%d.%d.%d", n>>32&255, n>>40&255, n>>48&255|1)
		pubDNS = "ec2-" + strings.ReplaceAll(pubIP, ".", "-") + "." + req.region + ".compute.amazonaws.com"
	}
	launch := in.LaunchTime.UTC().Format("2006-01-02T15:04:05.000Z")
	subnet, vpc, sg := "subnet-"+hex17(1), "vpc-"+hex17(2), "sg-"+hex17(3)
	stack := "app-" + strconv.FormatUint(n%7, 10)

	x.open("item")
	x.leaf("instanceId", in.ID)
	x.leaf("imageId", in.ImageID)
	x.open("instanceState")
	x.leaf("code", strconv.Itoa(instanceStateCodes[in.State]))
	x.leaf("name", in.State)
	x.close("instanceState")
	x.leaf("privateDnsName", privDNS)
	x.leaf("dnsName", pubDNS)
	x.leaf("reason", "")
	x.leaf("keyName", "ops-"+req.region)
	x.leaf("amiLaunchIndex", "0")
	x.b.WriteString("<productCodes/>")
	x.leaf("instanceType", in.InstanceType)
	x.leaf("launchTime", launch)
	x.open("placement")
	x.leaf("availabilityZoneId", req.region[:2]+req.region[strings.LastIndexByte(req.region, '-')+1:]+"-az"+strconv.FormatUint(n%3+1, 10))
	x.leaf("availabilityZone", az)
	x.leaf("groupName", "")
	x.leaf("tenancy", "default")
	x.close("placement")
	if in.Platform != "" {
		x.leaf("platform", in.Platform)
	}
	x.open("monitoring")
	x.leaf("state", "disabled")
	x.close("monitoring")
	x.leaf("subnetId", subnet)
	x.leaf("vpcId", vpc)
	x.leaf("privateIpAddress", privIP)
	if pubIP != "" {
		x.leaf("ipAddress", pubIP)
	}
	x.leaf("sourceDestCheck", "true")
	groupSet(x, sg, stack)
	x.leaf("architecture", "x86_64")
	x.leaf("rootDeviceType", "ebs")
	x.leaf("rootDeviceName", "/dev/xvda")
	x.open("blockDeviceMapping")
	for i, dev := range []string{"/dev/xvda"} {
		x.open("item")
		x.leaf("deviceName", dev)
		x.open("ebs")
		x.leaf("volumeId", "vol-"+hex17(uint64(10+i)))
		x.leaf("status", "attached")
		x.leaf("attachTime", launch)
		x.leaf("deleteOnTermination", "true")
		x.close("ebs")
		x.close("item")
	}
	x.close("blockDeviceMapping")
	x.leaf("virtualizationType", "hvm")
	x.leaf("clientToken", "fleet-"+hex17(4)[:8]+"-"+hex17(5)[:4]+"-"+hex17(6)[:4]+"-"+hex17(7)[:12])
	x.open("tagSet")
	for _, t := range in.tags() {
		x.open("item")
		x.leaf("key", t[0])
		x.leaf("value", t[1])
		x.close("item")
	}
	x.close("tagSet")
	x.leaf("hypervisor", "xen")
	x.open("networkInterfaceSet")
	x.open("item")
	x.leaf("networkInterfaceId", "eni-"+hex17(14))
	x.leaf("subnetId", subnet)
	x.leaf("vpcId", vpc)
	x.leaf("description", "")
	x.leaf("ownerId", req.account)
	x.leaf("status", "in-use")
	x.leaf("macAddress", fmt.Sprintf("06:%02x:%02x:%02x:%02x:%02x", n&255, n>>8&255, n>>16&255, n>>24&255, n>>32&255))
	x.leaf("privateIpAddress", privIP)
	x.leaf("privateDnsName", privDNS)
	x.leaf("sourceDestCheck", "true")
	groupSet(x, sg, stack)
	x.open("attachment")
	x.leaf("attachmentId", "eni-attach-"+hex17(15))
	x.leaf("deviceIndex", "0")
	x.leaf("status", "attached")
	x.leaf("attachTime", launch)
	x.leaf("deleteOnTermination", "true")
	x.leaf("networkCardIndex", "0")
	x.close("attachment")
	association := func() {
		if pubIP == "" {
			return
		}
		x.open("association")
		x.leaf("publicIp", pubIP)
		x.leaf("publicDnsName", pubDNS)
		x.leaf("ipOwnerId", "amazon")
		x.close("association")
	}
	association()
	x.open("privateIpAddressesSet")
	x.open("item")
	x.leaf("privateIpAddress", privIP)
	x.leaf("privateDnsName", privDNS)
	x.leaf("primary", "true")
	association()
	x.close("item")
	x.close("privateIpAddressesSet")
	x.b.WriteString("<ipv6AddressesSet/>")
	x.leaf("interfaceType", "interface")
	x.open("operator")
	x.leaf("managed", "false")
	x.close("operator")
	x.close("item")
	x.close("networkInterfaceSet")
	if in.InstanceProfileARN != "" {
		id, ok := profileIDs[in.InstanceProfileARN]
		if !ok {
			id = s.profileIDByARN(req.account, in.InstanceProfileARN)
			if id == "" {
				id = "AIPA" + strings.ToUpper(randomHex(17))
			}
			profileIDs[in.InstanceProfileARN] = id
		}
		x.open("iamInstanceProfile")
		x.leaf("arn", in.InstanceProfileARN)
		x.leaf("id", id)
		x.close("iamInstanceProfile")
	}
	x.leaf("ebsOptimized", "true")
	x.leaf("enaSupport", "true")
	x.open("cpuOptions")
	x.leaf("coreCount", "1")
	x.leaf("threadsPerCore", "2")
	x.close("cpuOptions")
	x.open("capacityReservationSpecification")
	x.leaf("capacityReservationPreference", "open")
	x.close("capacityReservationSpecification")
	x.open("hibernationOptions")
	x.leaf("configured", "false")
	x.close("hibernationOptions")
	x.open("metadataOptions")
	x.leaf("state", "applied")
	x.leaf("httpTokens", in.HTTPTokens)
	x.leaf("httpPutResponseHopLimit", "2")
	x.leaf("httpEndpoint", in.HTTPEndpoint)
	x.leaf("httpProtocolIpv6", "disabled")
	x.leaf("instanceMetadataTags", "disabled")
	x.close("metadataOptions")
	x.open("enclaveOptions")
	x.leaf("enabled", "false")
	x.close("enclaveOptions")
	x.leaf("bootMode", "uefi-preferred")
	details, usage := "Linux/UNIX", "RunInstances"
	if in.Platform == "windows" {
		details, usage = "Windows", "RunInstances:0002"
	}
	x.leaf("platformDetails", details)
	x.leaf("usageOperation", usage)
	x.leaf("usageOperationUpdateTime", launch)
	x.open("privateDnsNameOptions")
	x.leaf("hostnameType", "ip-name")
	x.leaf("enableResourceNameDnsARecord", "false")
	x.leaf("enableResourceNameDnsAAAARecord", "false")
	x.close("privateDnsNameOptions")
	x.open("maintenanceOptions")
	x.leaf("autoRecovery", "default")
	x.leaf("rebootMigration", "default")
	x.close("maintenanceOptions")
	x.leaf("currentInstanceBootMode", "legacy-bios")
	x.open("networkPerformanceOptions")
	x.leaf("bandwidthWeighting", "default")
	x.close("networkPerformanceOptions")
	x.open("operator")
	x.leaf("managed", "false")
	x.close("operator")
	x.close("item")
}

// tags are the instance's tags: its Name, then those an Auto Scaling group
// launching from a template adds, and two of the owner's. The tag filters
// (tag-key, tag:KEY) match exactly these.
func (in *Instance) tags() [][2]string {
	n := idHash(in.ID)
	stack := "app-" + strconv.FormatUint(n%7, 10)
	tags := [][2]string{
		{"aws:autoscaling:groupName", fmt.Sprintf("%s-asg-%012X", stack, n>>16)},
		{"aws:ec2launchtemplate:id", fmt.Sprintf("lt-%017x", n&0xfffffffffffffff)},
		{"aws:ec2launchtemplate:version", "7"},
		{"Environment", "production"},
		{"Team", "platform-" + stack},
	}
	if in.Name != "" {
		tags = append([][2]string{{"Name", in.Name}}, tags...)
	}
	return tags
}

func idHash(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

func groupSet(x *xb, id, name string) {
	x.open("groupSet")
	x.open("item")
	x.leaf("groupId", id)
	x.leaf("groupName", name+"-instances")
	x.close("item")
	x.close("groupSet")
}
