package awsemu

// snsSubjectPattern is what a Publish Subject may hold. The SNS API reference
// (aws-sdk-go-v2 service/sns, PublishInput.Subject) says: "Subjects must be
// UTF-8 text with no line breaks or control characters, and less than 100
// characters long." Older revisions said "ASCII text that begins with a letter,
// number, or punctuation mark", and AWS's own Managed Prometheus SNS receiver
// still replaces non-ASCII subjects, so whether SNS accepts every UTF-8 subject
// today is unconfirmed: the emulator follows the current reference, and the
// product (alert.Subject) sends printable ASCII, which both rules accept.
//
// Control characters are Unicode's Cc (C0, DEL and C1); line breaks are those
// plus the line and paragraph separators. U+FFFD is refused because an invalid
// UTF-8 byte decodes to it, and SNS refuses text that is not UTF-8. Whether the
// limit counts characters or bytes is not documented either: the length check
// (snsMaxSubject) counts bytes, the stricter reading.
const snsSubjectPattern = `^[^\p{Cc}\p{Zl}\p{Zp}\x{FFFD}]+$`
