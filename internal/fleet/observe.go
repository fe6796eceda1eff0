package fleet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	acctypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// DefaultParallelism is how many Regions are read at once unless
// configured: 20 covers the 17 Regions enabled by default in one round.
const DefaultParallelism = 20

// Page sizes. EC2 answers about 4.7 KB of XML per instance, which the SDK
// decodes into some 10 KB of structs: a page of 200 is about 1 MB on the
// wire and 2 MB decoded, and 50 a call at most for SSM.
const (
	instancesPage = 200 // ec2:DescribeInstances MaxResults 5..1000
	nodesPage     = 50  // ssm:DescribeInstanceInformation MaxResults 5..50
)

// DefaultPagesInFlight bounds the DescribeInstances pages fetched and
// decoded at once across all Regions (Options.PagesInFlight). Memory then
// depends on it, not on the number of Regions or instances: each page is
// assessed and dropped before the next is fetched. The function is
// CPU-bound at its share of a vCPU, so more pages at once would not finish
// sooner; 4 keeps round trips overlapped.
const DefaultPagesInFlight = 4

// Options tune a Reader.
type Options struct {
	// Parallelism bounds the Regions read at once (default 20).
	Parallelism int
	// Sample is how many instance IDs to keep per list (default 20).
	Sample int
	// PagesInFlight bounds the DescribeInstances pages held at once
	// (default DefaultPagesInFlight).
	PagesInFlight int
	Now           func() time.Time
}

// Reader reads the fleet of one account. Safe for concurrent use.
type Reader struct {
	clients   Clients
	accountID string
	partition string
	regions   []string // nil: every enabled Region
	opts      Options
	// pages holds one token per DescribeInstances page being fetched or
	// assessed.
	pages chan struct{}
}

// New checks its inputs and returns a Reader for the account. regions nil
// means every Region enabled in the account (account:ListRegions).
func New(c Clients, accountID, partition string, regions []string, o Options) (*Reader, error) {
	var errs []error
	if c.EC2 == nil || c.SSM == nil || c.IAM == nil {
		errs = append(errs, errors.New("EC2, SSM and IAM clients are required"))
	}
	if len(regions) == 0 && c.Regions == nil {
		errs = append(errs, errors.New("no Region lister, and no Regions configured"))
	}
	if len(accountID) != 12 {
		errs = append(errs, fmt.Errorf("account ID %q is not 12 digits", accountID))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("creating fleet reader: %w", err)
	}
	if o.Parallelism <= 0 {
		o.Parallelism = DefaultParallelism
	}
	if o.Sample <= 0 {
		o.Sample = DefaultSample
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PagesInFlight <= 0 {
		o.PagesInFlight = DefaultPagesInFlight
	}
	if partition == "" {
		partition = "aws"
	}
	return &Reader{clients: c, accountID: accountID, partition: partition, regions: slices.Clone(regions), opts: o,
		pages: make(chan struct{}, o.PagesInFlight)}, nil
}

// Run reads the Regions (nil: the configured ones) and returns the report.
// A Region that cannot be read completely carries an Error and partial
// counts; Run itself fails only when the Regions cannot be listed.
func (r *Reader) Run(ctx context.Context, regions []string, cause Cause) (*Report, error) {
	start := r.opts.Now()
	calls := &counter{}
	if len(regions) == 0 {
		var err error
		if regions, err = r.managedRegions(ctx, calls); err != nil {
			return nil, err
		}
	}
	regions = slices.Compact(slices.Sorted(slices.Values(regions)))
	ps := &profiles{iam: r.clients.IAM, calls: calls}
	tallies := make([]*Tally, len(regions))
	forEach(len(regions), r.opts.Parallelism, func(i int) {
		tallies[i] = r.readRegion(ctx, regions[i], ps, calls)
	})
	rep := &Report{
		Kind: ReportKind, Cause: cause, AccountID: r.accountID,
		StartedAt: start.UTC().Format(time.RFC3339), MinAgentVersion: MinAgentVersion,
	}
	Merge(rep, tallies, r.opts.Sample)
	rep.APICalls = calls.snapshot()
	for _, n := range rep.APICalls {
		rep.Reads += n
	}
	rep.DurationMs = r.opts.Now().Sub(start).Milliseconds()
	return rep, nil
}

func (r *Reader) managedRegions(ctx context.Context, calls *counter) ([]string, error) {
	if len(r.regions) > 0 {
		return r.regions, nil
	}
	in := &account.ListRegionsInput{
		MaxResults:              aws.Int32(50),
		RegionOptStatusContains: []acctypes.RegionOptStatus{acctypes.RegionOptStatusEnabled, acctypes.RegionOptStatusEnabledByDefault},
	}
	var out []string
	for {
		calls.add("account:ListRegions")
		page, err := r.clients.Regions.ListRegions(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing enabled Regions: %w", err)
		}
		for _, reg := range page.Regions {
			if reg.RegionName != nil {
				out = append(out, *reg.RegionName)
			}
		}
		if page.NextToken == nil || *page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	if len(out) == 0 {
		return nil, errors.New("listing enabled Regions: the account reports none")
	}
	return out, nil
}

// readRegion streams one Region into a Tally: the setting, then the managed
// nodes (a nodeIndex, the one thing that grows with the Region's fleet:
// some 30 bytes a node), then the running instances page by page, each
// classified as it arrives and the page dropped.
func (r *Reader) readRegion(ctx context.Context, region string, ps *profiles, calls *counter) *Tally {
	nodesAPI := r.clients.SSM(region)
	d, settingErr := r.readSetting(ctx, region, nodesAPI, calls)
	t := NewTally(region, d, r.opts.Sample)
	nodes, err := r.readNodes(ctx, region, nodesAPI, calls, t)
	if err != nil {
		t.Fail(err)
		return t
	}
	if err := r.readInstances(ctx, region, nodes, ps, calls, t); err != nil {
		t.Fail(err)
		return t
	}
	if settingErr != nil {
		t.Fail(settingErr)
	}
	return t
}

func (r *Reader) readSetting(ctx context.Context, region string, api NodesAPI, calls *counter) (DHMC, error) {
	calls.add("ssm:GetServiceSetting")
	arn := fmt.Sprintf("arn:%s:ssm:%s:%s:servicesetting%s", r.partition, region, r.accountID, dhmc.SettingID)
	out, err := api.GetServiceSetting(ctx, &ssm.GetServiceSettingInput{SettingId: aws.String(arn)})
	var nf *ssmtypes.ServiceSettingNotFound
	switch {
	case errors.As(err, &nf):
		return DHMC{State: DHMCOff}, nil
	case err != nil:
		return DHMC{State: DHMCUnknown}, fmt.Errorf("reading the DHMC setting (%s): %w", region, err)
	case out.ServiceSetting == nil:
		return DHMC{State: DHMCUnknown}, fmt.Errorf("reading the DHMC setting (%s): empty response", region)
	}
	return DHMCFromSetting(aws.ToString(out.ServiceSetting.SettingValue)), nil
}

func (r *Reader) readNodes(ctx context.Context, region string, api NodesAPI, calls *counter, t *Tally) (*nodeIndex, error) {
	nodes := newNodeIndex()
	in := &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(nodesPage)}
	for {
		calls.add("ssm:DescribeInstanceInformation")
		page, err := api.DescribeInstanceInformation(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing managed nodes (%s): %w", region, err)
		}
		for _, n := range page.InstanceInformationList {
			// Hybrid nodes (mi-...) are not EC2 instances.
			if n.ResourceType != ssmtypes.ResourceTypeEc2Instance {
				continue
			}
			t.AddNode()
			nodes.put(aws.ToString(n.InstanceId), Node{PingStatus: string(n.PingStatus), AgentVersion: aws.ToString(n.AgentVersion)})
		}
		if page.NextToken == nil || *page.NextToken == "" {
			return nodes, nil
		}
		in.NextToken = page.NextToken
	}
}

func (r *Reader) readInstances(ctx context.Context, region string, nodes *nodeIndex, ps *profiles, calls *counter, t *Tally) error {
	api := r.clients.EC2(region)
	in := &ec2.DescribeInstancesInput{
		MaxResults: aws.Int32(instancesPage),
		Filters:    []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running"}}},
	}
	for {
		next, err := r.readInstancesPage(ctx, region, api, in, nodes, ps, calls, t)
		if err != nil || next == nil {
			return err
		}
		in.NextToken = next
	}
}

// readInstancesPage fetches one page, assesses its instances into t, and
// returns the next page's token (nil at the end). It holds one of the
// Reader's page tokens throughout, so at most PagesInFlight decoded pages
// exist at once; the page is garbage when it returns.
func (r *Reader) readInstancesPage(ctx context.Context, region string, api InstancesAPI, in *ec2.DescribeInstancesInput,
	nodes *nodeIndex, ps *profiles, calls *counter, t *Tally) (*string, error) {
	select {
	case r.pages <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("listing running instances (%s): %w", region, ctx.Err())
	}
	defer func() { <-r.pages }()
	calls.add("ec2:DescribeInstances")
	page, err := api.DescribeInstances(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("listing running instances (%s): %w", region, err)
	}
	for _, res := range page.Reservations {
		owner := aws.ToString(res.OwnerId)
		if owner == "" {
			owner = r.accountID
		}
		for _, x := range res.Instances {
			inst := Instance{ID: aws.ToString(x.InstanceId), Region: region, AccountID: owner, Partition: r.partition}
			if mo := x.MetadataOptions; mo != nil {
				inst.HTTPTokens, inst.HTTPEndpoint = string(mo.HttpTokens), string(mo.HttpEndpoint)
			}
			var p *Profile
			if x.IamInstanceProfile != nil && aws.ToString(x.IamInstanceProfile.Arn) != "" {
				inst.ProfileARN = aws.ToString(x.IamInstanceProfile.Arn)
				p = ps.get(ctx, inst.ProfileARN)
			}
			var node *Node
			if n, ok := nodes.get(inst.ID); ok {
				node = &n
			}
			t.AddInstance(inst, node, p)
		}
	}
	if page.NextToken == nil || *page.NextToken == "" {
		return nil, nil
	}
	return page.NextToken, nil
}

// forEach runs fn(0..n-1) with at most limit at once.
func forEach(n, limit int, fn func(i int)) {
	sem := make(chan struct{}, max(1, limit))
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}

// counter counts API calls by operation ("ec2:DescribeInstances"): a page
// is a call; an SDK retry of it is not.
type counter struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *counter) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := maps.Clone(c.calls)
	if out == nil {
		out = map[string]int{}
	}
	return out
}
