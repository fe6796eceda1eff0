package ledger

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of the key and of the TTL.
const (
	attrPK      = "pk"
	attrSK      = "sk"
	attrExpires = "expiresAt"
)

const (
	pkRun    = "RUN"
	pkOutbox = "OUTBOX"

	prefixItem   = "ITEM#"
	prefixActor  = "ACTOR#"
	prefixAlert  = "ALERT#"
	prefixDedup  = "DEDUP#"
	prefixGroup  = "GROUP#"
	prefixFlap   = "FLAP#"
	skAlert      = "ALERT"
	skDedup      = "DEDUP"
	skGroup      = "GROUP"
	skFlap       = "FLAP"
	outboxAlert  = "A#"
	outboxDigest = "D#"
	outboxBack   = "B#"
)

// sortTime formats times in sort keys: fixed width, UTC, so that string
// order is time order.
const sortTime = "2006-01-02T15:04:05.000000000Z"

func timeKey(t time.Time) string { return t.UTC().Format(sortTime) }

func itemPK(item, kind string) string { return prefixItem + item + "#" + kind }
func actorPK(actor string) string     { return prefixActor + actor }

// key is an item's primary key.
type key struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
}

// CreateTableInput is the ledger's table as infra/template.yaml declares it
// (string pk and sk, on demand, encrypted), for tests and the demo; enable
// TTL on expiresAt with TimeToLiveInput.
func CreateTableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		SSESpecification: &types.SSESpecification{Enabled: aws.Bool(true)},
	}
}

// TimeToLiveInput turns on the table's TTL on expiresAt.
func TimeToLiveInput(name string) *dynamodb.UpdateTimeToLiveInput {
	return &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String(attrExpires)},
	}
}

// TTLAttribute is the name of the TTL attribute (expiresAt, epoch seconds).
const TTLAttribute = attrExpires
