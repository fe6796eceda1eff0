package ddb_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

const testTable = "ledger"

func ddbClient(s *awsemu.Server, region, akid string) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg(s, region, akid))
}

// newTable creates the ledger's table shape: string pk and sk.
func newTable(t *testing.T, c *dynamodb.Client) {
	t.Helper()
	_, err := c.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:   aws.String(testTable),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange},
		},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
}

func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

type record struct {
	PK      string            `dynamodbav:"pk"`
	SK      string            `dynamodbav:"sk"`
	Count   int               `dynamodbav:"count"`
	Ratio   float64           `dynamodbav:"ratio"`
	On      bool              `dynamodbav:"on"`
	Nothing *string           `dynamodbav:"nothing,nullempty"`
	Tags    map[string]string `dynamodbav:"tags"`
	List    []string          `dynamodbav:"list"`
	Names   []string          `dynamodbav:"names,stringset"`
	Nums    []int             `dynamodbav:"nums,numberset"`
	Nested  []map[string]any  `dynamodbav:"nested"`
}

func put(t *testing.T, c *dynamodb.Client, v any) {
	t.Helper()
	it, err := attributevalue.MarshalMap(v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(testTable), Item: it}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
}

func key(pk, sk string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: pk},
		"sk": &ddbtypes.AttributeValueMemberS{Value: sk},
	}
}

func TestDynamoDBTablesLiveInTheirAccountAndRegion(t *testing.T) {
	s := awsemu.StartTest(t)
	c := ddbClient(s, "eu-west-1", "AKIDTEST")
	newTable(t, c)

	d, err := c.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(testTable)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(d.Table.TableArn), "arn:aws:dynamodb:eu-west-1:"+awsemu.DefaultAccount+":table/"+testTable; got != want {
		t.Errorf("TableArn = %s, want %s", got, want)
	}
	if d.Table.TableStatus != ddbtypes.TableStatusActive || d.Table.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
		t.Errorf("table = %s %v", d.Table.TableStatus, d.Table.BillingModeSummary)
	}
	if _, err := c.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName: aws.String(testTable), BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
	}); apiCode(err) != "ResourceInUseException" {
		t.Errorf("second CreateTable: %v, want ResourceInUseException", err)
	}

	for name, other := range map[string]*dynamodb.Client{
		"another Region":  ddbClient(s, "us-east-1", "AKIDTEST"),
		"another account": ddbClient(s, "eu-west-1", "AKIDOTHER"),
	} {
		s.SetCaller("AKIDOTHER", "210987654321", "arn:aws:iam::210987654321:user/other")
		_, err := other.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(testTable), Key: key("a", "b")})
		var nf *ddbtypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("%s: GetItem = %v, want ResourceNotFoundException", name, err)
		}
	}

	if _, err := c.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String(testTable)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(testTable)}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("DescribeTable after delete: %v", err)
	}
}

func TestDynamoDBRecordsTimeToLiveWithoutExpiringItems(t *testing.T) {
	s := awsemu.StartTest(t)
	c := ddbClient(s, "eu-west-1", "AKIDTEST")
	newTable(t, c)
	ctx := t.Context()
	if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(testTable),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("expiresAt")},
	}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(testTable)})
	if err != nil {
		t.Fatal(err)
	}
	if d.TimeToLiveDescription.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled || aws.ToString(d.TimeToLiveDescription.AttributeName) != "expiresAt" {
		t.Errorf("TTL = %+v", d.TimeToLiveDescription)
	}
	_, err = c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(testTable),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("expiresAt")},
	})
	if apiCode(err) != "ValidationException" || !strings.Contains(apiMessage(err), "already enabled") {
		t.Errorf("enabling twice: %v", err)
	}
	// An item that expired long ago is still there: expiry is lazy in AWS.
	put(t, c, map[string]any{"pk": "p", "sk": "s", "expiresAt": 1})
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(testTable), Key: key("p", "s")})
	if err != nil || got.Item == nil {
		t.Errorf("expired item: %v %v", got, err)
	}
}

func TestDynamoDBRoundTripsEveryTypeAttributevalueWrites(t *testing.T) {
	s := awsemu.StartTest(t)
	c := ddbClient(s, "eu-west-1", "AKIDTEST")
	newTable(t, c)
	want := record{
		PK: "p", SK: "s", Count: 42, Ratio: 1.5, On: true,
		Tags:   map[string]string{"a": "b", "e": ""},
		List:   []string{"x", "", "y"},
		Names:  []string{"b", "a"},
		Nums:   []int{3, 1, 2},
		Nested: []map[string]any{{"deep": []any{1.25, "z", nil, true, map[string]any{}}}},
	}
	put(t, c, want)
	out, err := c.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(testTable), Key: key("p", "s"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var got record
	if err := attributevalue.UnmarshalMap(out.Item, &got); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got.Names)
	slices.Sort(got.Nums)
	slices.Sort(want.Names)
	slices.Sort(want.Nums)
	if got.Count != want.Count || got.Ratio != want.Ratio || !got.On || got.Nothing != nil ||
		got.Tags["a"] != "b" || !slices.Equal(got.List, want.List) ||
		!slices.Equal(got.Names, want.Names) || !slices.Equal(got.Nums, want.Nums) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	deep, _ := got.Nested[0]["deep"].([]any)
	if len(deep) != 5 || deep[0] != 1.25 || deep[2] != nil {
		t.Errorf("nested = %#v", got.Nested)
	}
}

func TestDynamoDBNumbersAreStoredCanonically(t *testing.T) {
	s := awsemu.StartTest(t)
	c := ddbClient(s, "eu-west-1", "AKIDTEST")
	newTable(t, c)
	it := key("p", "s")
	it["n"] = &ddbtypes.AttributeValueMemberN{Value: "0012.500"}
	it["e"] = &ddbtypes.AttributeValueMemberN{Value: "1.5E3"}
	if _, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(testTable), Item: it}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(testTable), Key: key("p", "s")})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Item["n"].(*ddbtypes.AttributeValueMemberN).Value; got != "12.5" {
		t.Errorf("n = %s, want 12.5", got)
	}
	if got := out.Item["e"].(*ddbtypes.AttributeValueMemberN).Value; got != "1500" {
		t.Errorf("e = %s, want 1500", got)
	}
	it["n"] = &ddbtypes.AttributeValueMemberN{Value: "twelve"}
	_, err = c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(testTable), Item: it})
	if apiCode(err) != "ValidationException" || apiMessage(err) != "The parameter cannot be converted to a numeric value: twelve" {
		t.Errorf("bad number: %v", err)
	}
}

func TestDynamoDBConditionalPutLosesToTheFirstWriter(t *testing.T) {
	s := awsemu.StartTest(t)
	c := ddbClient(s, "eu-west-1", "AKIDTEST")
	newTable(t, c)
	ctx := t.Context()
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("pk"))).Build()
	if err != nil {
		t.Fatal(err)
	}
	putOnce := func(v string) error {
		it := key("event", "e-1")
		it["v"] = &ddbtypes.AttributeValueMemberS{Value: v}
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(testTable), Item: it,
			ConditionExpression:                 cond.Condition(),
			ExpressionAttributeNames:            cond.Names(),
			ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
		})
		return err
	}
	if err := putOnce("first"); err != nil {
		t.Fatal(err)
	}
	err = putOnce("second")
	var ccf *ddbtypes.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("second put: %v, want ConditionalCheckFailedException", err)
	}
	if ccf.ErrorMessage() != "The conditional request failed" {
		t.Errorf("message = %q", ccf.ErrorMessage())
	}
	if v, _ := ccf.Item["v"].(*ddbtypes.AttributeValueMemberS); v == nil || v.Value != "first" {
		t.Errorf("ALL_OLD item = %v, want the first writer's", ccf.Item)
	}
}

func TestDynamoDBUpdateExpressions(t *testing.T) {
	s := awsemu.StartTest(t)
	c := ddbClient(s, "eu-west-1", "AKIDTEST")
	newTable(t, c)
	ctx := t.Context()
	n, v := expression.Name, expression.Value
	update := func(u expression.UpdateBuilder, c2 *expression.ConditionBuilder) (map[string]ddbtypes.AttributeValue, error) {
		b := expression.NewBuilder().WithUpdate(u)
		if c2 != nil {
			b = b.WithCondition(*c2)
		}
		e, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(testTable), Key: key("group", "g"),
			UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
			ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
			ReturnValues: ddbtypes.ReturnValueAllNew,
		})
		if err != nil {
			return nil, err
		}
		return out.Attributes, nil
	}
	type state struct {
		Version    int      `dynamodbav:"version"`
		Suppressed int      `dynamodbav:"suppressed"`
		Actors     []string `dynamodbav:"actors,stringset"`
		Seen       []string `dynamodbav:"seen"`
		Old        string   `dynamodbav:"old"`
	}
	read := func(m map[string]ddbtypes.AttributeValue) state {
		var st state
		if err := attributevalue.UnmarshalMap(m, &st); err != nil {
			t.Fatal(err)
		}
		slices.Sort(st.Actors)
		return st
	}

	// A new item: if_not_exists + plus, ADD to a set, list_append, a field to remove later.
	first := expression.AttributeNotExists(n("pk"))
	got, err := update(expression.
		Set(n("version"), expression.Plus(n("version").IfNotExists(v(0)), v(1))).
		Set(n("seen"), expression.ListAppend(n("seen").IfNotExists(v([]string{})), v([]string{"t1"}))).
		Set(n("old"), v("x")).
		Add(n("actors"), v(&ddbtypes.AttributeValueMemberSS{Value: []string{"alice"}})), &first)
	if err != nil {
		t.Fatal(err)
	}
	if st := read(got); st.Version != 1 || !slices.Equal(st.Seen, []string{"t1"}) || !slices.Equal(st.Actors, []string{"alice"}) || st.Old != "x" {
		t.Errorf("after create: %+v", st)
	}

	// Optimistic concurrency: only the writer that read version 1 wins.
	at1 := n("version").Equal(v(1))
	got, err = update(expression.
		Set(n("version"), expression.Plus(n("version"), v(1))).
		Set(n("seen"), expression.ListAppend(n("seen"), v([]string{"t2"}))).
		Add(n("suppressed"), v(3)).
		Add(n("actors"), v(&ddbtypes.AttributeValueMemberSS{Value: []string{"bob", "alice"}})).
		Remove(n("old")), &at1)
	if err != nil {
		t.Fatal(err)
	}
	if st := read(got); st.Version != 2 || st.Suppressed != 3 || !slices.Equal(st.Seen, []string{"t1", "t2"}) || !slices.Equal(st.Actors, []string{"alice", "bob"}) || st.Old != "" {
		t.Errorf("after update: %+v", st)
	}
	_, err = update(expression.Set(n("version"), v(99)), &at1)
	var ccf *ddbtypes.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Errorf("stale version: %v, want ConditionalCheckFailedException", err)
	}

	// Arithmetic on a string is a validation error, and nothing changes.
	_, err = update(expression.Set(n("old2"), expression.Plus(n("seen"), v(1))), nil)
	if apiCode(err) != "ValidationException" || apiMessage(err) != "An operand in the update expression has an incorrect data type" {
		t.Errorf("list + 1: %v", err)
	}
	// The key is not updatable.
	_, err = update(expression.Set(n("pk"), v("other")), nil)
	if apiCode(err) != "ValidationException" || !strings.Contains(apiMessage(err), "This attribute is part of the key") {
		t.Errorf("SET pk: %v", err)
	}
}

func TestDynamoDBQueryRangesPagesAndOrder(t *testing.T) {
	s := awsemu.StartTest(t)
	c := ddbClient(s, "eu-west-1", "AKIDTEST")
	newTable(t, c)
	ctx := t.Context()
	for _, sk := range []string{"2026-11-01", "2026-11-02", "2026-11-03", "2026-12-01", "2027-01-01"} {
		put(t, c, map[string]any{"pk": "RUN", "sk": sk, "outcome": map[bool]string{true: "failed", false: "repaired"}[sk == "2026-11-02"]})
	}
	put(t, c, map[string]any{"pk": "OTHER", "sk": "2026-11-05"})
	query := func(kc expression.KeyConditionBuilder, forward bool, limit int32, start map[string]ddbtypes.AttributeValue, filter *expression.ConditionBuilder) *dynamodb.QueryOutput {
		t.Helper()
		b := expression.NewBuilder().WithKeyCondition(kc)
		if filter != nil {
			b = b.WithFilter(*filter)
		}
		e, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		in := &dynamodb.QueryInput{
			TableName: aws.String(testTable), KeyConditionExpression: e.KeyCondition(), FilterExpression: e.Filter(),
			ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
			ScanIndexForward: aws.Bool(forward), ExclusiveStartKey: start,
		}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		out, err := c.Query(ctx, in)
		if err != nil {
			t.Fatalf("Query: %v", err)
		}
		return out
	}
	sks := func(items []map[string]ddbtypes.AttributeValue) []string {
		var out []string
		for _, it := range items {
			out = append(out, it["sk"].(*ddbtypes.AttributeValueMemberS).Value)
		}
		return out
	}
	pk := expression.Key("pk").Equal(expression.Value("RUN"))
	sk := expression.Key("sk")
	cases := []struct {
		name    string
		kc      expression.KeyConditionBuilder
		forward bool
		want    []string
	}{
		{"whole partition", pk, true, []string{"2026-11-01", "2026-11-02", "2026-11-03", "2026-12-01", "2027-01-01"}},
		{"begins_with", expression.KeyAnd(pk, sk.BeginsWith("2026-11")), true, []string{"2026-11-01", "2026-11-02", "2026-11-03"}},
		{"newest first since", expression.KeyAnd(pk, sk.GreaterThanEqual(expression.Value("2026-11-03"))), false, []string{"2027-01-01", "2026-12-01", "2026-11-03"}},
		{"between", expression.KeyAnd(pk, sk.Between(expression.Value("2026-11-02"), expression.Value("2026-12-01"))), true, []string{"2026-11-02", "2026-11-03", "2026-12-01"}},
		{"less than", expression.KeyAnd(pk, sk.LessThan(expression.Value("2026-11-02"))), true, []string{"2026-11-01"}},
		{"equal", expression.KeyAnd(pk, sk.Equal(expression.Value("2026-12-01"))), true, []string{"2026-12-01"}},
	}
	for _, tc := range cases {
		if got := sks(query(tc.kc, tc.forward, 0, nil, nil).Items); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	// Pages of two, newest first, until LastEvaluatedKey is gone.
	var all []string
	var start map[string]ddbtypes.AttributeValue
	pages := 0
	for {
		out := query(pk, false, 2, start, nil)
		pages++
		all = append(all, sks(out.Items)...)
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if want := []string{"2027-01-01", "2026-12-01", "2026-11-03", "2026-11-02", "2026-11-01"}; !slices.Equal(all, want) {
		t.Errorf("pages = %v, want %v", all, want)
	}

	// A filter applies after the limit: ScannedCount counts what was read.
	failed := expression.Name("outcome").Equal(expression.Value("failed"))
	out := query(pk, true, 3, nil, &failed)
	if got := sks(out.Items); !slices.Equal(got, []string{"2026-11-02"}) || out.ScannedCount != 3 || out.Count != 1 {
		t.Errorf("filtered = %v count %d scanned %d", got, out.Count, out.ScannedCount)
	}
}

func TestDynamoDBBatchesWriteAndReadManyItems(t *testing.T) {
	s := awsemu.StartTest(t)
	c := ddbClient(s, "eu-west-1", "AKIDTEST")
	newTable(t, c)
	ctx := t.Context()
	var writes []ddbtypes.WriteRequest
	var keys []map[string]ddbtypes.AttributeValue
	for i := range 25 {
		k := key("ITEM", strings.Repeat("x", i+1))
		writes = append(writes, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: k}})
		keys = append(keys, k)
	}
	out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{testTable: writes}})
	if err != nil || len(out.UnprocessedItems) != 0 {
		t.Fatalf("BatchWriteItem: %v %v", out, err)
	}
	tooMany := append(slices.Clone(writes), ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: key("ITEM", "y")}})
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{testTable: tooMany}})
	if apiCode(err) != "ValidationException" {
		t.Errorf("26 writes: %v", err)
	}
	dup := []ddbtypes.WriteRequest{writes[0], writes[0]}
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{testTable: dup}})
	if apiMessage(err) != "Provided list of item keys contains duplicates" {
		t.Errorf("duplicate writes: %v", err)
	}
	got, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{
		testTable: {Keys: append(keys[:3:3], key("ITEM", "absent"))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.Responses[testTable]); n != 3 {
		t.Errorf("BatchGetItem found %d items, want 3", n)
	}
}

func TestDynamoDBTransactionIsAllOrNothing(t *testing.T) {
	s := awsemu.StartTest(t)
	c := ddbClient(s, "eu-west-1", "AKIDTEST")
	newTable(t, c)
	ctx := t.Context()
	put(t, c, map[string]any{"pk": "DEDUP#e-1", "sk": "DEDUP"})
	notExists, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("pk"))).Build()
	if err != nil {
		t.Fatal(err)
	}
	tx := func(dedup string) error {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
			{Put: &ddbtypes.Put{TableName: aws.String(testTable), Item: key("OUTBOX", "a-"+dedup)}},
			{Put: &ddbtypes.Put{
				TableName: aws.String(testTable), Item: key("DEDUP#"+dedup, "DEDUP"),
				ConditionExpression: notExists.Condition(), ExpressionAttributeNames: notExists.Names(),
			}},
		}})
		return err
	}
	err = tx("e-1")
	var tce *ddbtypes.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("duplicate: %v, want TransactionCanceledException", err)
	}
	var codes []string
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if !slices.Equal(codes, []string{"None", "ConditionalCheckFailed"}) {
		t.Errorf("reasons = %v", codes)
	}
	if !strings.Contains(tce.ErrorMessage(), "[None, ConditionalCheckFailed]") {
		t.Errorf("message = %q", tce.ErrorMessage())
	}
	if items := s.TableItems(awsemu.DefaultAccount, "eu-west-1", testTable); len(items) != 1 {
		t.Errorf("a cancelled transaction wrote: %v", items)
	}
	if err := tx("e-2"); err != nil {
		t.Fatal(err)
	}
	if items := s.TableItems(awsemu.DefaultAccount, "eu-west-1", testTable); len(items) != 3 {
		t.Errorf("items = %v, want 3", items)
	}
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: aws.String(testTable), Item: key("X", "1")}},
		{Delete: &ddbtypes.Delete{TableName: aws.String(testTable), Key: key("X", "1")}},
	}})
	if apiMessage(err) != "Transaction request cannot include multiple operations on one item" {
		t.Errorf("two operations on one item: %v", err)
	}
}

func TestDynamoDBRefusesBadRequestsAsDynamoDBWordsThem(t *testing.T) {
	s := awsemu.StartTest(t)
	c := ddbClient(s, "eu-west-1", "AKIDTEST")
	newTable(t, c)
	ctx := t.Context()
	tbl := aws.String(testTable)
	val := map[string]ddbtypes.AttributeValue{":v": &ddbtypes.AttributeValueMemberS{Value: "x"}}
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"missing key in item", func() error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "a"}}})
			return err
		}, "One or more parameter values were invalid: Missing the key sk in the item"},
		{"key of the wrong type", func() error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: map[string]ddbtypes.AttributeValue{
				"pk": &ddbtypes.AttributeValueMemberN{Value: "1"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "a"}}})
			return err
		}, "The provided key element does not match the schema"},
		{"empty key", func() error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: key("", "a")})
			return err
		}, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"},
		{"unused value", func() error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: key("a", "b"),
				ConditionExpression: aws.String("attribute_not_exists(pk)"), ExpressionAttributeValues: val})
			return err
		}, "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"},
		{"undefined value", func() error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: key("a", "b"),
				ConditionExpression: aws.String("v = :w"), ExpressionAttributeValues: val})
			return err
		}, "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :w"},
		{"undefined name", func() error {
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: key("a", "b"),
				UpdateExpression: aws.String("SET #x = :v"), ExpressionAttributeValues: val})
			return err
		}, "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #x"},
		{"syntax error", func() error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: key("a", "b"),
				ConditionExpression: aws.String("v = = :v"), ExpressionAttributeValues: val})
			return err
		}, `Invalid ConditionExpression: Syntax error; token: "=", near: "v = = :v"`},
		{"query without the partition key", func() error {
			_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("sk = :v"), ExpressionAttributeValues: val})
			return err
		}, "Query condition missed key schema element: pk"},
		{"query with OR", func() error {
			_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("pk = :v OR sk = :v"), ExpressionAttributeValues: val})
			return err
		}, "Invalid operator used in KeyConditionExpression: OR"},
	}
	for _, tc := range cases {
		err := tc.call()
		if apiCode(err) != "ValidationException" || apiMessage(err) != tc.want {
			t.Errorf("%s:\n got %v\nwant ValidationException: %s", tc.name, err, tc.want)
		}
	}
	if items := s.TableItems(awsemu.DefaultAccount, "eu-west-1", testTable); len(items) != 0 {
		t.Errorf("refused requests wrote %v", items)
	}
	_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("missing"), Key: key("a", "b")})
	if apiCode(err) != "ResourceNotFoundException" || apiMessage(err) != "Requested resource not found" {
		t.Errorf("missing table: %v", err)
	}
}

func TestDynamoDBFaultsAnswerAsDynamoDB(t *testing.T) {
	s := awsemu.StartTest(t)
	c := ddbClient(s, "eu-west-1", "AKIDTEST")
	newTable(t, c)
	ctx := t.Context()
	cases := []struct {
		kind     awsemu.FaultKind
		code     string
		attempts int
	}{
		{awsemu.FaultThrottle, "ProvisionedThroughputExceededException", 3},
		{awsemu.FaultServerError, "InternalServerError", 3},
		{awsemu.FaultAccessDenied, "AccessDeniedException", 1},
	}
	for _, tc := range cases {
		s.ResetCalls()
		remove := s.Inject(awsemu.Fault{Op: "dynamodb:GetItem", Kind: tc.kind})
		_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(testTable), Key: key("a", "b")})
		remove()
		if apiCode(err) != tc.code {
			t.Errorf("%v: %v, want %s", tc.kind, err, tc.code)
		}
		if n := s.CountCalls(func(c awsemu.Call) bool { return c.Operation == "GetItem" }); n != tc.attempts {
			t.Errorf("%s: %d attempts, want %d", tc.code, n, tc.attempts)
		}
	}
	var tp *ddbtypes.ProvisionedThroughputExceededException
	remove := s.Inject(awsemu.Fault{Op: "dynamodb:*", Kind: awsemu.FaultThrottle})
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(testTable), Item: key("a", "b")})
	remove()
	if !errors.As(err, &tp) {
		t.Errorf("throttled put: %v, want the typed error", err)
	}
}

func TestDynamoDBConditionalRaceMakesTheNextConditionalWriteLose(t *testing.T) {
	s := awsemu.StartTest(t)
	c := ddbClient(s, "eu-west-1", "AKIDTEST")
	newTable(t, c)
	ctx := t.Context()
	at := func(version int) *dynamodb.UpdateItemInput {
		e, err := expression.NewBuilder().
			WithUpdate(expression.Set(expression.Name("version"), expression.Value(version+1))).
			WithCondition(expression.Name("version").Equal(expression.Value(version)).Or(expression.AttributeNotExists(expression.Name("pk")))).
			Build()
		if err != nil {
			t.Fatal(err)
		}
		return &dynamodb.UpdateItemInput{
			TableName: aws.String(testTable), Key: key("GROUP#g", "GROUP"),
			UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
			ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		}
	}
	// Without a competing write: the conditional write loses once.
	s.Inject(awsemu.Fault{Op: "dynamodb:UpdateItem", Kind: awsemu.FaultConditionalRace, Times: 1})
	// An unconditional write does not take the fault.
	put(t, c, map[string]any{"pk": "other", "sk": "x"})
	var ccf *ddbtypes.ConditionalCheckFailedException
	if _, err := c.UpdateItem(ctx, at(0)); !errors.As(err, &ccf) {
		t.Fatalf("raced write: %v, want ConditionalCheckFailedException", err)
	}
	if _, err := c.UpdateItem(ctx, at(0)); err != nil {
		t.Fatalf("retry: %v", err)
	}

	// With a competing write: the other writer bumps the version first, so
	// the write fails and a re-read shows why.
	other := ddbClient(s, "eu-west-1", "AKIDTEST")
	s.Inject(awsemu.Fault{Op: "dynamodb:UpdateItem", Kind: awsemu.FaultConditionalRace, Times: 1, Race: func() {
		if _, err := other.UpdateItem(context.Background(), at(1)); err != nil {
			t.Errorf("competing write: %v", err)
		}
	}})
	if _, err := c.UpdateItem(ctx, at(1)); !errors.As(err, &ccf) {
		t.Fatalf("raced write: %v, want ConditionalCheckFailedException", err)
	}
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(testTable), Key: key("GROUP#g", "GROUP")})
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Item["version"].(*ddbtypes.AttributeValueMemberN).Value; v != "2" {
		t.Errorf("version = %s, want 2 (the competitor's)", v)
	}
}
