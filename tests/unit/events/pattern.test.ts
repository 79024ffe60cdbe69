import {
  compilePattern,
  InvalidEventPatternError,
  matchesPattern,
  validatePattern,
  type EventPattern,
} from '../../../shared/events/pattern';

/**
 * Case table in the aws/event-ruler style: {name, pattern, event, expected}.
 *
 * Sources cited per group (quoted lines are from these pages):
 *  [EB-SYNTAX]  EventBridge user guide, "Event pattern syntax" / "Creating Amazon EventBridge event patterns"
 *  [EB-ARRAYS]  EventBridge user guide, "Arrays in Amazon EventBridge event patterns"
 *  [EB-NULL]    EventBridge user guide, "Matching null values and empty strings in Amazon EventBridge event patterns"
 *  [EB-OPS]     EventBridge user guide, "Comparison operators for use in event patterns in Amazon EventBridge"
 *  [EB-FILTER]  EventBridge user guide, "Content filtering in Amazon EventBridge event patterns"
 *  [RULER]      aws/event-ruler README.md (the matching engine behind EventBridge)
 *  [RULER-JRC]  aws/event-ruler src/main/software/amazon/event/ruler/JsonRuleCompiler.java (what a valid rule is)
 *  [WILDCARD-BLOG] AWS Compute Blog, "Filtering events in Amazon EventBridge with wildcard pattern matching"
 */

interface Case {
  name: string;
  pattern: EventPattern;
  event: unknown;
  expected: boolean;
}

/** The sample event used throughout [RULER] and [EB-FILTER]. */
const ec2 = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

/** An event whose detail is `detail` (the envelope is irrelevant to these cases). */
const withDetail = (detail: unknown) => ({ source: 'test', 'detail-type': 'Test', detail });

// [EB-SYNTAX] "In an event pattern, the value to match is in a JSON array ... matches events where the value for the
//   "source" field is either "aws.ec2" or "aws.fargate"."
// [EB-OPS] Equals: "Name": [ "Alice" ]; Null: "UserID": [ null ]; Or: "PaymentType": [ "Credit", "Debit"]
// [RULER] "Unquoted values are allowed, such as numbers (-3.0e5) and certain JSON-specific literals (true, false, and
//   null)" ... "`"xyz", "true"` would match only the JSON literal `true`."
const exact: Case[] = [
  { name: 'string equal', pattern: { source: ['aws.ec2'] }, event: ec2, expected: true },
  { name: 'string different', pattern: { source: ['aws.s3'] }, event: ec2, expected: false },
  { name: 'string is case-sensitive', pattern: { source: ['AWS.EC2'] }, event: ec2, expected: false },
  { name: 'any value of the list', pattern: { source: ['aws.fargate', 'aws.ec2'] }, event: ec2, expected: true },
  { name: 'number equal', pattern: { detail: { 'c-count': [5] } }, event: ec2, expected: true },
  { name: 'number different', pattern: { detail: { 'c-count': [6] } }, event: ec2, expected: false },
  { name: 'float in exponent form', pattern: { detail: { 'x-limit': [3.018e2] } }, event: ec2, expected: true },
  { name: 'number does not match string', pattern: { detail: { 'c-count': ['5'] } }, event: ec2, expected: false },
  { name: 'string does not match number', pattern: { v: [5] }, event: { v: '5' }, expected: false },
  { name: 'boolean true', pattern: { flag: [true] }, event: { flag: true }, expected: true },
  { name: 'boolean false vs true', pattern: { flag: [false] }, event: { flag: true }, expected: false },
  { name: 'boolean does not match "true"', pattern: { flag: [true] }, event: { flag: 'true' }, expected: false },
  { name: 'null matches null', pattern: { UserID: [null] }, event: { UserID: null }, expected: true },
  { name: 'null does not match absent', pattern: { UserID: [null] }, event: { other: 1 }, expected: false },
  { name: 'null does not match "null"', pattern: { UserID: [null] }, event: { UserID: 'null' }, expected: false },
];

// [EB-NULL] "To match events where the value of eventVersion is an empty string, use ... "eventVersion": [""]"
//   "Null values and empty strings are not interchangeable in pattern matching. An event pattern that matches empty
//   strings doesn't match values of null."
// [EB-OPS] Empty: "LastName": [""]
const emptyString: Case[] = [
  {
    name: 'empty string matches empty string',
    pattern: { detail: { eventVersion: [''] } },
    event: withDetail({ eventVersion: '', responseElements: null }),
    expected: true,
  },
  {
    name: 'null pattern matches the null field of the doc sample',
    pattern: { detail: { responseElements: [null] } },
    event: withDetail({ eventVersion: '', responseElements: null }),
    expected: true,
  },
  {
    name: 'empty string does not match null',
    pattern: { detail: { responseElements: [''] } },
    event: withDetail({ eventVersion: '', responseElements: null }),
    expected: false,
  },
  {
    name: 'null does not match empty string',
    pattern: { detail: { eventVersion: [null] } },
    event: withDetail({ eventVersion: '', responseElements: null }),
    expected: false,
  },
  {
    name: 'empty string does not match a non-empty one',
    pattern: { LastName: [''] },
    event: { LastName: 'x' },
    expected: false,
  },
];

// [EB-ARRAYS] "An event pattern matches the event if any of the values in the array match the value in the event. If
//   the value in the event is an array, then the event pattern matches if the intersection of the event pattern array
//   and the event array is non-empty."
// [RULER] "the array structure is "crushed out" of the rule pattern ... This works for multi-level arrays too" and
//   "rulesForJSONEvent() will refuse to recognize any match in which any two fields are within JSON objects that are in
//   different elements of the same array."
const employees = {
  employees: [
    { firstName: 'John', lastName: 'Doe' },
    { firstName: 'Anna', lastName: 'Smith' },
    { firstName: 'Peter', lastName: 'Jones' },
  ],
};
const arrays: Case[] = [
  {
    name: 'intersection non-empty (doc resources example)',
    pattern: {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    },
    event: {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    },
    expected: true,
  },
  { name: 'intersection empty', pattern: { resources: ['a', 'b'] }, event: { resources: ['c', 'd'] }, expected: false },
  { name: 'array of numbers', pattern: { n: [2] }, event: { n: [1, 2, 3] }, expected: true },
  { name: 'multi-level arrays are crushed', pattern: { n: ['b'] }, event: { n: [['a'], [['b']]] }, expected: true },
  { name: 'empty event array matches no value', pattern: { n: ['a'] }, event: { n: [] }, expected: false },
  {
    name: 'operators apply per element',
    pattern: { n: [{ prefix: 'ab' }] },
    event: { n: ['x', 'abc'] },
    expected: true,
  },
  {
    name: 'array of objects: field of one element',
    pattern: { employees: { firstName: ['Anna'] } },
    event: employees,
    expected: true,
  },
  {
    name: 'array of objects: fields of the same element',
    pattern: { employees: { firstName: ['Anna'], lastName: ['Smith'] } },
    event: employees,
    expected: true,
  },
  {
    name: 'array of objects: fields from different elements do not combine',
    pattern: { employees: { firstName: ['Anna'], lastName: ['Jones'] } },
    event: employees,
    expected: false,
  },
  {
    name: 'array of objects nested in arrays',
    pattern: { employees: { firstName: ['Peter'] } },
    event: { employees: [[employees.employees[0]], [employees.employees[2]]] },
    expected: true,
  },
];

// [EB-SYNTAX] "For an event pattern to match an event, the event must contain all the field names listed in the event
//   pattern. The field names must also appear in the event with the same nesting structure."
//   "EventBridge ignores all the other fields in the event when applying the rule."
// [EB-OPS] And: "Location": [ "New York" ], "Day": ["Monday"]
// [RULER] "Ruler considers a rule to match if **all** of the fields named in the rule match, and it considers a field
//   to match if **any** of the provided field values match"
const structure: Case[] = [
  {
    name: 'all fields match (doc EC2 example)',
    pattern: {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['running'] },
    },
    event: ec2,
    expected: true,
  },
  {
    name: 'one field fails the AND',
    pattern: {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['terminated'] },
    },
    event: ec2,
    expected: false,
  },
  {
    name: 'And across two fields',
    pattern: { Location: ['New York'], Day: ['Monday'] },
    event: { Location: 'New York', Day: 'Monday' },
    expected: true,
  },
  {
    name: 'And fails on the second field',
    pattern: { Location: ['New York'], Day: ['Monday'] },
    event: { Location: 'New York', Day: 'Friday' },
    expected: false,
  },
  { name: 'absent field does not match', pattern: { detail: { missing: ['x'] } }, event: ec2, expected: false },
  {
    name: 'absent parent object does not match',
    pattern: { detail: { state: ['running'] } },
    event: { source: 'aws.ec2' },
    expected: false,
  },
  {
    name: 'same name at another nesting level does not match',
    pattern: { state: ['running'] },
    event: ec2,
    expected: false,
  },
  {
    name: 'deep nesting',
    pattern: { detail: { a: { b: { c: ['d'] } } } },
    event: withDetail({ a: { b: { c: 'd' } } }),
    expected: true,
  },
  {
    name: 'nested pattern against a scalar',
    pattern: { detail: { state: { code: ['x'] } } },
    event: ec2,
    expected: false,
  },
  { name: 'value list against an object (not a leaf)', pattern: { detail: ['running'] }, event: ec2, expected: false },
  { name: 'other event fields are ignored', pattern: { region: ['us-east-1'] }, event: ec2, expected: true },
  { name: 'non-object event has no fields', pattern: { source: ['aws.ec2'] }, event: 'aws.ec2', expected: false },
  { name: 'null event has no fields', pattern: { source: ['aws.ec2'] }, event: null, expected: false },
];

// [EB-FILTER] Prefix matching: "You can match an event depending on the prefix of a value in the event source. You can
//   use prefix matching for string values." ... { "time": [ { "prefix": "2017-10-02" } ] }
// [RULER] "Prefix matches only work on string-valued fields."
const prefix: Case[] = [
  { name: 'time starts with the date', pattern: { time: [{ prefix: '2017-10-02' }] }, event: ec2, expected: true },
  { name: 'different prefix', pattern: { time: [{ prefix: '2017-10-03' }] }, event: ec2, expected: false },
  { name: 'prefix is case-sensitive', pattern: { source: [{ prefix: 'AWS.' }] }, event: ec2, expected: false },
  {
    name: 'whole value is a prefix of itself',
    pattern: { source: [{ prefix: 'aws.ec2' }] },
    event: ec2,
    expected: true,
  },
  { name: 'longer than the value', pattern: { source: [{ prefix: 'aws.ec2x' }] }, event: ec2, expected: false },
  { name: 'only strings: number', pattern: { detail: { 'c-count': [{ prefix: '5' }] } }, event: ec2, expected: false },
  {
    name: 'region begins with (operators table)',
    pattern: { Region: [{ prefix: 'us-' }] },
    event: { Region: 'us-west-2' },
    expected: true,
  },
];

// [EB-FILTER] Prefix matching while ignoring case: "You can also match a prefix value regardless of the casing of the
//   characters a value begins with, using equals-ignore-case in conjunction with prefix." ... matches "service" starting
//   with "EventB", but also "EVENTB", "eventb", or any other capitalization.
// [EB-OPS] Begins with (ignore case): {"service" : [{ "prefix": { "equals-ignore-case": "eventb" }}]}
const prefixIgnoreCase: Case[] = [
  {
    name: 'same case',
    pattern: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] },
    event: { service: 'EventBridge' },
    expected: true,
  },
  {
    name: 'upper case',
    pattern: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] },
    event: { service: 'EVENTBRIDGE' },
    expected: true,
  },
  {
    name: 'lower case',
    pattern: { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] },
    event: { service: 'eventbus' },
    expected: true,
  },
  {
    name: 'not a prefix',
    pattern: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] },
    event: { service: 'Amazon EventBridge' },
    expected: false,
  },
  {
    name: 'only strings',
    pattern: { n: [{ prefix: { 'equals-ignore-case': '1' } }] },
    event: { n: 12 },
    expected: false,
  },
];

// [EB-FILTER] Suffix matching: "You can match an event depending on the suffix of a value in the event source. You can
//   use suffix matching for string values." ... { "FileName": [ { "suffix": ".png" } ] }
// [RULER] "Suffix matches only work on string-valued fields."
const suffix: Case[] = [
  {
    name: 'ends with .png',
    pattern: { FileName: [{ suffix: '.png' }] },
    event: { FileName: 'image.png' },
    expected: true,
  },
  {
    name: 'ends with .jpg',
    pattern: { FileName: [{ suffix: '.png' }] },
    event: { FileName: 'image.jpg' },
    expected: false,
  },
  {
    name: 'suffix is case-sensitive',
    pattern: { FileName: [{ suffix: '.png' }] },
    event: { FileName: 'image.PNG' },
    expected: false,
  },
  { name: 'source ends with ec2 (README)', pattern: { source: [{ suffix: 'ec2' }] }, event: ec2, expected: true },
  { name: 'only strings: number', pattern: { n: [{ suffix: '5' }] }, event: { n: 15 }, expected: false },
];

// [EB-FILTER] Suffix matching while ignoring case: "You can also match a suffix value regardless of the casing of the
//   characters a value ends with, using equals-ignore-case in conjunction with suffix." ... matches FileName ending
//   with ".png", but also ".PNG" or any other capitalization.
// [EB-OPS] Ends with (ignore case): {"service" : [{ "suffix": { "equals-ignore-case": "tBridge" }}]}
const suffixIgnoreCase: Case[] = [
  {
    name: '.PNG',
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    event: withDetail({ FileName: 'a.PNG' }),
    expected: true,
  },
  {
    name: '.Png',
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    event: withDetail({ FileName: 'a.Png' }),
    expected: true,
  },
  {
    name: 'TBRIDGE',
    pattern: { service: [{ suffix: { 'equals-ignore-case': 'tBridge' } }] },
    event: { service: 'EVENTBRIDGE' },
    expected: true,
  },
  {
    name: 'different suffix',
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    event: withDetail({ FileName: 'a.jpg' }),
    expected: false,
  },
];

// [EB-OPS] Equals (ignore case): "Name": [ { "equals-ignore-case": "alice" } ]  — Name is "Alice"
// [RULER] "Equals-ignore-case matches only work on string-valued fields."
const equalsIgnoreCase: Case[] = [
  { name: 'Alice', pattern: { Name: [{ 'equals-ignore-case': 'alice' }] }, event: { Name: 'Alice' }, expected: true },
  { name: 'ALICE', pattern: { Name: [{ 'equals-ignore-case': 'alice' }] }, event: { Name: 'ALICE' }, expected: true },
  {
    name: 'not a prefix match',
    pattern: { Name: [{ 'equals-ignore-case': 'alice' }] },
    event: { Name: 'Alicia' },
    expected: false,
  },
  {
    name: 'source EC2 (README)',
    pattern: { source: [{ 'equals-ignore-case': 'AWS.EC2' }] },
    event: ec2,
    expected: true,
  },
  {
    name: 'only strings: boolean',
    pattern: { b: [{ 'equals-ignore-case': 'true' }] },
    event: { b: true },
    expected: false,
  },
];

// [EB-OPS] Wildcard: "Any file with a .png extension, located within the folder "dir"":
//   "FileName": [ { "wildcard": "dir/*.png" } ]
// [WILDCARD-BLOG] "Wildcard filters use the wildcard character (*) to match zero, single, or multiple characters in a
//   string value." ... "*Title*" matches string values that include "Title" in the middle.
// [RULER] "Wildcard matches only work on string-valued fields. A single value can contain zero to many wildcard
//   characters ... To match the asterisk character specifically, a wildcard character can be escaped with a backslash.
//   Two consecutive backslashes (i.e. a backslash escaped with a backslash) represents the actual backslash character."
const wildcard: Case[] = [
  {
    name: 'dir/*.png matches a file in dir',
    pattern: { FileName: [{ wildcard: 'dir/*.png' }] },
    event: { FileName: 'dir/a.png' },
    expected: true,
  },
  {
    name: '* also spans slashes',
    pattern: { FileName: [{ wildcard: 'dir/*.png' }] },
    event: { FileName: 'dir/sub/a.png' },
    expected: true,
  },
  {
    name: 'other folder',
    pattern: { FileName: [{ wildcard: 'dir/*.png' }] },
    event: { FileName: 'other/a.png' },
    expected: false,
  },
  {
    name: 'other extension',
    pattern: { FileName: [{ wildcard: 'dir/*.png' }] },
    event: { FileName: 'dir/a.jpg' },
    expected: false,
  },
  {
    name: '* matches zero characters',
    pattern: { source: [{ wildcard: 'Simple*Service' }] },
    event: { source: 'SimpleService' },
    expected: true,
  },
  {
    name: '* matches many characters',
    pattern: { source: [{ wildcard: 'Simple*Service' }] },
    event: { source: 'SimpleQueueService' },
    expected: true,
  },
  { name: 'lone * matches the empty string', pattern: { v: [{ wildcard: '*' }] }, event: { v: '' }, expected: true },
  {
    name: 'several wildcards: contains',
    pattern: { v: [{ wildcard: '*Title*' }] },
    event: { v: 'A Title here' },
    expected: true,
  },
  {
    name: 'several wildcards: missing infix',
    pattern: { v: [{ wildcard: '*Title*' }] },
    event: { v: 'A title here' },
    expected: false,
  },
  { name: 'anchored at both ends', pattern: { v: [{ wildcard: 'a*c' }] }, event: { v: 'abcd' }, expected: false },
  { name: 'no wildcard is an exact match', pattern: { v: [{ wildcard: 'abc' }] }, event: { v: 'abc' }, expected: true },
  {
    name: 'escaped \\* is a literal asterisk',
    pattern: { v: [{ wildcard: 'a\\*b' }] },
    event: { v: 'a*b' },
    expected: true,
  },
  {
    name: 'escaped \\* does not act as a wildcard',
    pattern: { v: [{ wildcard: 'a\\*b' }] },
    event: { v: 'axb' },
    expected: false,
  },
  {
    name: 'escaped \\\\ is a literal backslash',
    pattern: { v: [{ wildcard: 'a\\\\*' }] },
    event: { v: 'a\\bc' },
    expected: true,
  },
  {
    name: 'regex metacharacters are literal',
    pattern: { v: [{ wildcard: 'a.c*' }] },
    event: { v: 'abc' },
    expected: false,
  },
  { name: 'only strings: number', pattern: { v: [{ wildcard: '1*' }] }, event: { v: 12 }, expected: false },
];

// [EB-FILTER] Anything-but matching: "Anything-but matching matches anything except what's provided in the rule."
//   "You can use anything-but matching with strings and numeric values, including lists that contain only strings, or
//   only numbers." ... "anything-but matching that matches any event that doesn't have the prefix "init" in the
//   "state" field."
// [EB-OPS] Anything-but (ends with): { "anything-but": { "suffix": ".png" } }; (ignore case):
//   { "anything-but": { "equals-ignore-case": "initializing" }}; using a wildcard: { "anything-but": { "wildcard":
//   "*/lib/*" }}; Not: "Weather": [ { "anything-but": [ "Raining" ] } ]
//   "Comparison operators only work on leaf nodes, with the exception of $or and anything-but."
// [RULER-JRC] anything-but objects accept equals-ignore-case | prefix | suffix | wildcard with a string or a list of
//   strings (processAnythingButValuesSetMatchExpression).
// [EB-SYNTAX] + [EB-ARRAYS]: the field must be present; against an event array it matches when some element is not
//   excluded (intersection semantics).
const anythingBut: Case[] = [
  {
    name: 'single string: other value',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: ec2,
    expected: true,
  },
  {
    name: 'single string: the excluded value',
    pattern: { detail: { state: [{ 'anything-but': 'running' }] } },
    event: ec2,
    expected: false,
  },
  {
    name: 'single number: other value',
    pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
    event: ec2,
    expected: true,
  },
  {
    name: 'single number: the excluded value',
    pattern: { detail: { 'x-limit': [{ 'anything-but': 301.8 }] } },
    event: ec2,
    expected: false,
  },
  {
    name: 'string list: not listed',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    event: ec2,
    expected: true,
  },
  {
    name: 'string list: listed',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'running'] }] } },
    event: ec2,
    expected: false,
  },
  {
    name: 'number list: not listed',
    pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    event: ec2,
    expected: true,
  },
  {
    name: 'number list: listed',
    pattern: { detail: { 'c-count': [{ 'anything-but': [4, 5] }] } },
    event: ec2,
    expected: false,
  },
  {
    name: 'Not Raining',
    pattern: { Weather: [{ 'anything-but': ['Raining'] }] },
    event: { Weather: 'Sunny' },
    expected: true,
  },
  {
    name: 'absent field does not match',
    pattern: { detail: { missing: [{ 'anything-but': 'x' }] } },
    event: ec2,
    expected: false,
  },
  {
    name: 'prefix: excluded',
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    event: withDetail({ state: 'initializing' }),
    expected: false,
  },
  {
    name: 'prefix: allowed',
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    event: ec2,
    expected: true,
  },
  {
    name: 'prefix list',
    pattern: { state: [{ 'anything-but': { prefix: ['init', 'stop'] } }] },
    event: { state: 'stopped' },
    expected: false,
  },
  {
    name: 'source not aws.*',
    pattern: { source: [{ 'anything-but': { prefix: 'aws.' } }] },
    event: { source: 'storefront' },
    expected: true,
  },
  {
    name: 'suffix: excluded',
    pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    event: { FileName: 'a.png' },
    expected: false,
  },
  {
    name: 'suffix: allowed',
    pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    event: { FileName: 'a.txt' },
    expected: true,
  },
  {
    name: 'suffix list',
    pattern: { FileName: [{ 'anything-but': { suffix: ['.txt', '.rtf'] } }] },
    event: { FileName: 'a.rtf' },
    expected: false,
  },
  {
    name: 'ignore case: other casing excluded',
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    event: { state: 'INITIALIZING' },
    expected: false,
  },
  {
    name: 'ignore case: allowed',
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    event: { state: 'running' },
    expected: true,
  },
  {
    name: 'ignore case list',
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] },
    event: { state: 'Stopped' },
    expected: false,
  },
  {
    name: 'wildcard: excluded',
    pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    event: { FilePath: '/usr/lib/x.so' },
    expected: false,
  },
  {
    name: 'wildcard: allowed',
    pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    event: { FilePath: '/usr/bin/x' },
    expected: true,
  },
  {
    name: 'wildcard list',
    pattern: { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] },
    event: { FilePath: '/usr/bin/x' },
    expected: false,
  },
  {
    name: 'event array with one allowed element',
    pattern: { price: [{ 'anything-but': [100, 500] }] },
    event: { price: [100, 50] },
    expected: true,
  },
  {
    name: 'event array with only excluded elements',
    pattern: { price: [{ 'anything-but': [100, 500] }] },
    event: { price: [100, 500] },
    expected: false,
  },
  {
    name: 'null is not the excluded string',
    pattern: { state: [{ 'anything-but': 'x' }] },
    event: { state: null },
    expected: true,
  },
  {
    name: 'number is not the excluded string',
    pattern: { state: [{ 'anything-but': '5' }] },
    event: { state: 5 },
    expected: true,
  },
  { name: 'object is not a leaf', pattern: { detail: [{ 'anything-but': 'x' }] }, event: ec2, expected: false },
];

// [EB-FILTER] Numeric matching: "Numeric matching works with values that are JSON numbers." ... "c-count": [ {
//   "numeric": [ ">", 0, "<=", 5 ] } ], "d-count": [ { "numeric": [ "<", 10 ] } ], "x-limit": [ { "numeric": [ "=",
//   3.018e2 ] } ]
// [EB-OPS] Numeric (equals): "Price": [ { "numeric": [ "=", 100 ] } ]; Numeric (range): "Price": [ { "numeric": [ ">",
//   10, "<=", 20 ] } ]
// [RULER] "only work with values that are JSON numbers. Numeric matching is limited to value between -5.0e9 and +5.0e9
//   inclusive"
const numeric: Case[] = [
  { name: '= equal', pattern: { Price: [{ numeric: ['=', 100] }] }, event: { Price: 100 }, expected: true },
  {
    name: '= equal (exponent form)',
    pattern: { detail: { 'x-limit': [{ numeric: ['=', 3.018e2] }] } },
    event: ec2,
    expected: true,
  },
  { name: '= different', pattern: { Price: [{ numeric: ['=', 100] }] }, event: { Price: 100.5 }, expected: false },
  { name: '< below', pattern: { detail: { 'd-count': [{ numeric: ['<', 10] }] } }, event: ec2, expected: true },
  { name: '< boundary is excluded', pattern: { v: [{ numeric: ['<', 10] }] }, event: { v: 10 }, expected: false },
  { name: '<= boundary is included', pattern: { v: [{ numeric: ['<=', 10] }] }, event: { v: 10 }, expected: true },
  { name: '<= above', pattern: { v: [{ numeric: ['<=', 10] }] }, event: { v: 10.000001 }, expected: false },
  { name: '> above', pattern: { v: [{ numeric: ['>', 0] }] }, event: { v: 0.5 }, expected: true },
  { name: '> boundary is excluded', pattern: { v: [{ numeric: ['>', 0] }] }, event: { v: 0 }, expected: false },
  { name: '>= boundary is included', pattern: { v: [{ numeric: ['>=', 0] }] }, event: { v: 0 }, expected: true },
  { name: '>= below', pattern: { v: [{ numeric: ['>=', 0] }] }, event: { v: -1 }, expected: false },
  {
    name: 'range (>, <=) upper bound included',
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } },
    event: ec2,
    expected: true,
  },
  {
    name: 'range (>, <=) lower bound excluded',
    pattern: { Price: [{ numeric: ['>', 10, '<=', 20] }] },
    event: { Price: 10 },
    expected: false,
  },
  {
    name: 'range (>, <=) above',
    pattern: { Price: [{ numeric: ['>', 10, '<=', 20] }] },
    event: { Price: 20.5 },
    expected: false,
  },
  {
    name: 'range (>=, <) lower bound included',
    pattern: { v: [{ numeric: ['>=', 1, '<', 2] }] },
    event: { v: 1 },
    expected: true,
  },
  {
    name: 'range (>=, <) upper bound excluded',
    pattern: { v: [{ numeric: ['>=', 1, '<', 2] }] },
    event: { v: 2 },
    expected: false,
  },
  { name: 'negative numbers', pattern: { v: [{ numeric: ['<', 0] }] }, event: { v: -3.5 }, expected: true },
  { name: 'only numbers: numeric string', pattern: { v: [{ numeric: ['>', 0] }] }, event: { v: '5' }, expected: false },
  { name: 'only numbers: boolean', pattern: { v: [{ numeric: ['>', 0] }] }, event: { v: true }, expected: false },
  {
    name: 'beyond +5.0e9 is out of range',
    pattern: { v: [{ numeric: ['>', 0] }] },
    event: { v: 6e9 },
    expected: false,
  },
  { name: '+5.0e9 itself is in range', pattern: { v: [{ numeric: ['>', 0] }] }, event: { v: 5e9 }, expected: true },
  {
    name: 'any element of an event array',
    pattern: { v: [{ numeric: ['>', 10] }] },
    event: { v: [1, 20] },
    expected: true,
  },
  {
    name: 'doc example: all numeric fields must match',
    pattern: {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    },
    event: ec2,
    expected: true,
  },
  {
    name: 'doc example: one numeric field out of range',
    pattern: { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 3] }] } },
    event: ec2,
    expected: false,
  },
];

// [EB-FILTER] Exists matching: "Exists matching works on the presence or absence of a field in the JSON of the event."
//   "Exists matching only works on leaf nodes. It does not work on intermediate nodes." ... the { "exists": false }
//   pattern on detail.c-count "also matches the following event because c-count isn't a leaf node" (c-count: {c1: 100}).
// [EB-OPS] Exists: "ProductName": [ { "exists": true } ]; Does not exist: "ProductName": [ { "exists": false } ]
// Null semantics: the value is not considered, only presence (EventBridge matches null with exists:true; the moto fix
//   getmoto/moto#5134 quotes the guide: "The value of the field is not considered when evaluating a match.")
// Intermediate node with exists:true does not match (awsdocs/amazon-eventbridge-user-guide#27, maintainer's answer
//   quoting "Exists matching only works on leaf nodes").
const exists: Case[] = [
  { name: 'true: field present', pattern: { detail: { state: [{ exists: true }] } }, event: ec2, expected: true },
  { name: 'true: field absent', pattern: { detail: { missing: [{ exists: true }] } }, event: ec2, expected: false },
  { name: 'false: field absent', pattern: { detail: { missing: [{ exists: false }] } }, event: ec2, expected: true },
  {
    name: 'false: field present',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: ec2,
    expected: false,
  },
  {
    name: 'true: null value counts as present',
    pattern: { foo: [{ exists: true }] },
    event: { foo: null },
    expected: true,
  },
  {
    name: 'false: null value counts as present',
    pattern: { foo: [{ exists: false }] },
    event: { foo: null },
    expected: false,
  },
  {
    name: 'true: empty string counts as present',
    pattern: { foo: [{ exists: true }] },
    event: { foo: '' },
    expected: true,
  },
  {
    name: 'true: false counts as present',
    pattern: { foo: [{ exists: true }] },
    event: { foo: false },
    expected: true,
  },
  {
    name: 'false: intermediate node is not a leaf (doc example)',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: withDetail({ state: ['initializing', 'running'], 'c-count': { c1: 100 } }),
    expected: true,
  },
  {
    name: 'true: intermediate node is not a leaf',
    pattern: { detail: { attributes: { some_attribute: [{ exists: true }] } } },
    event: withDetail({ attributes: { some_attribute: { nested: 1 } } }),
    expected: false,
  },
  {
    name: 'false: whole parent object absent',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: { source: 'x' },
    expected: true,
  },
  { name: 'true: array with values', pattern: { tags: [{ exists: true }] }, event: { tags: ['a'] }, expected: true },
  {
    name: 'true: empty array has no leaf value',
    pattern: { tags: [{ exists: true }] },
    event: { tags: [] },
    expected: false,
  },
  {
    name: 'false: empty array has no leaf value',
    pattern: { tags: [{ exists: false }] },
    event: { tags: [] },
    expected: true,
  },
  {
    name: 'exists:false OR numeric (absent)',
    pattern: { detail: { CRITICAL: [{ exists: false }, { numeric: ['>', 0] }] } },
    event: withDetail({ HIGH: 1 }),
    expected: true,
  },
  {
    name: 'exists:false OR numeric (present, 0)',
    pattern: { detail: { CRITICAL: [{ exists: false }, { numeric: ['>', 0] }] } },
    event: withDetail({ CRITICAL: 0 }),
    expected: false,
  },
];

// [EB-OPS] Or (multiple fields): "Location is "New York", or Day is "Monday"":
//   "$or": [ { "Location": [ "New York" ] }, { "Day": [ "Monday" ] } ]
// [RULER] "$or" examples — Normal "Or": Effect of "source" && ("metricName" || "namespace"); Parallel "Or" (incl.
//   "$or" under "detail"); "Or" has an "And" inside; Nested "Or" and "And".
const or: Case[] = [
  {
    name: 'first alternative',
    pattern: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] },
    event: { Location: 'New York', Day: 'Friday' },
    expected: true,
  },
  {
    name: 'second alternative',
    pattern: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] },
    event: { Location: 'Paris', Day: 'Monday' },
    expected: true,
  },
  {
    name: 'no alternative',
    pattern: { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] },
    event: { Location: 'Paris', Day: 'Friday' },
    expected: false,
  },
  {
    name: 'source && (metricName || namespace): namespace',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    },
    event: { source: 'aws.cloudwatch', metricName: 'Other', namespace: 'AWS/ES' },
    expected: true,
  },
  {
    name: 'source && (metricName || namespace): source fails',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    },
    event: { source: 'aws.ec2', metricName: 'CPUUtilization' },
    expected: false,
  },
  {
    name: 'nested in a field: detail.$or',
    pattern: { detail: { $or: [{ 'c-count': [{ numeric: ['>', 10] }] }, { state: ['running'] }] } },
    event: ec2,
    expected: true,
  },
  {
    name: 'nested in a field: neither branch',
    pattern: { detail: { $or: [{ 'c-count': [{ numeric: ['>', 10] }] }, { state: ['stopped'] }] } },
    event: ec2,
    expected: false,
  },
  {
    name: 'parallel ors are AND-ed: both satisfied',
    pattern: {
      $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }],
      detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
    },
    event: { namespace: 'AWS/EC2', detail: { 'detail-type': 'CloudWatch Alarm State Change' } },
    expected: true,
  },
  {
    name: 'parallel ors are AND-ed: second unsatisfied',
    pattern: {
      $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }],
      detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
    },
    event: { namespace: 'AWS/EC2', detail: { source: 'aws.ec2' } },
    expected: false,
  },
  {
    name: 'or has an and inside: all of the branch',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization'] },
        { metricType: ['MetricType'], namespace: ['AWS/EC2'] },
        { scope: ['Service'] },
      ],
    },
    event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2' },
    expected: true,
  },
  {
    name: 'or has an and inside: half of the branch',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization'] },
        { metricType: ['MetricType'], namespace: ['AWS/EC2'] },
        { scope: ['Service'] },
      ],
    },
    event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES' },
    expected: false,
  },
  {
    name: 'nested or and and',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization'] },
        { metricType: ['MetricType'], namespace: ['AWS/EC2'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
      ],
    },
    event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1000 },
    expected: true,
  },
  {
    name: 'nested or and and: inner or unsatisfied',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization'] },
        { metricType: ['MetricType'], namespace: ['AWS/EC2'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
      ],
    },
    event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1 },
    expected: false,
  },
  {
    name: 'or with exists:false branch',
    pattern: { $or: [{ version: [{ exists: false }] }, { version: [{ numeric: ['>=', 2] }] }] },
    event: { other: 1 },
    expected: true,
  },
];

// [EB-FILTER] IP address matching: "You can use IP address matching for IPv4 and IPv6 addresses." ...
//   "sourceIPAddress": [ { "cidr": "10.0.0.0/24" } ]
const cidr: Case[] = [
  {
    name: 'IPv4 inside /24',
    pattern: { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } },
    event: ec2,
    expected: true,
  },
  { name: 'IPv4 outside /24', pattern: { ip: [{ cidr: '10.0.0.0/24' }] }, event: { ip: '10.0.1.1' }, expected: false },
  { name: 'IPv4 /8', pattern: { ip: [{ cidr: '10.0.0.0/8' }] }, event: { ip: '10.200.3.4' }, expected: true },
  {
    name: 'IPv6 inside',
    pattern: { ip: [{ cidr: '2001:db8::/32' }] },
    event: { ip: '2001:db8:0:1::5' },
    expected: true,
  },
  { name: 'IPv6 outside', pattern: { ip: [{ cidr: '2001:db8::/32' }] }, event: { ip: '2001:db9::1' }, expected: false },
  { name: 'not an IP', pattern: { ip: [{ cidr: '10.0.0.0/8' }] }, event: { ip: 'ten' }, expected: false },
];

const groups: [string, Case[]][] = [
  ['exact values', exact],
  ['empty string and null', emptyString],
  ['arrays in the event', arrays],
  ['structure, absent fields and AND', structure],
  ['prefix', prefix],
  ['prefix + equals-ignore-case', prefixIgnoreCase],
  ['suffix', suffix],
  ['suffix + equals-ignore-case', suffixIgnoreCase],
  ['equals-ignore-case', equalsIgnoreCase],
  ['wildcard', wildcard],
  ['anything-but', anythingBut],
  ['numeric', numeric],
  ['exists', exists],
  ['$or', or],
  ['cidr', cidr],
];

describe.each(groups)('matchesPattern: %s', (_group, cases) => {
  test.each(cases)('$name', ({ pattern, event, expected }) => {
    // Every pattern in the table is valid as written; validation runs first so the table also pins what is accepted.
    expect(matchesPattern(validatePattern(pattern), event)).toBe(expected);
  });
});

describe('pattern input forms', () => {
  // [EB-FILTER] "if you include a key more than once the last reference will be the one used to evaluate events"
  test('a JSON string is parsed; a repeated key keeps its last value', () => {
    const compiled = compilePattern(
      '{"detail":{"location":[{"prefix":"us-"}],"location":[{"anything-but":"us-east"}]}}',
    );
    expect(compiled.matches(withDetail({ location: 'eu-west' }))).toBe(true);
    expect(compiled.matches(withDetail({ location: 'us-east' }))).toBe(false);
  });

  test('validatePattern returns the pattern unchanged', () => {
    const pattern = { source: ['storefront'], 'detail-type': ['order.placed'] };
    expect(validatePattern(pattern)).toBe(pattern);
  });

  test('a compiled pattern can be reused', () => {
    const compiled = compilePattern({ source: ['storefront'] });
    expect([{ source: 'storefront' }, { source: 'other' }].map(compiled.matches)).toEqual([true, false]);
  });
});

// [RULER-JRC] JsonRuleCompiler rejects these (messages reproduced); EventBridge answers PutRule with
// InvalidEventPatternException "Event pattern is not valid. Reason: ...".
// [EB-SYNTAX] "The value to match is in a JSON array" — a bare scalar is rejected ("\"slug\" must be an object or an
// array", the message quoted in buildkite/docs#896).
const rejections: [string, unknown, RegExp][] = [
  ['pattern is not an object (array)', [], /Filter is not an object/],
  ['pattern is not an object (null)', null, /Filter is not an object/],
  ['pattern string is not JSON', '{source:', /not valid JSON/],
  ['empty pattern', {}, /Empty objects are not allowed/],
  ['empty nested object', { detail: {} }, /Empty objects are not allowed at detail/],
  ['bare scalar value', { source: 'aws.ec2' }, /"source" must be an object or an array/],
  ['empty value array', { source: [] }, /Empty arrays are not allowed at source/],
  ['nested array as a value', { source: [['a']] }, /Match value must be String, number, true, false, or null/],
  ['unknown operator', { source: [{ contains: 'ec2' }] }, /Unrecognized match type contains/],
  ['two operators in one object', { source: [{ prefix: 'a', suffix: 'b' }] }, /Only one key allowed/],
  ['empty match expression', { source: [{}] }, /Match expression name not found/],
  ['prefix not a string', { source: [{ prefix: 1 }] }, /prefix match pattern must be a string/],
  [
    'prefix with an unsupported nested operator',
    { source: [{ prefix: { wildcard: 'a' } }] },
    /Unsupported prefix pattern: wildcard/,
  ],
  [
    'suffix ignore-case not a string',
    { source: [{ suffix: { 'equals-ignore-case': 1 } }] },
    /equals-ignore-case match pattern must be a string/,
  ],
  [
    'equals-ignore-case not a string',
    { source: [{ 'equals-ignore-case': ['a'] }] },
    /equals-ignore-case match pattern must be a string/,
  ],
  ['exists not a boolean', { a: [{ exists: 'true' }] }, /exists match pattern must be either true or false/],
  ['numeric not an array', { a: [{ numeric: '>' }] }, /Value of numeric must be an array/],
  ['numeric empty', { a: [{ numeric: [] }] }, /Invalid member in numeric match/],
  ['numeric unknown operator', { a: [{ numeric: ['!=', 1] }] }, /Unrecognized numeric range operator: !=/],
  ['numeric value not a number', { a: [{ numeric: ['>', '0'] }] }, /Value of > must be numeric/],
  ['numeric operator without value', { a: [{ numeric: ['<'] }] }, /Value of < must be numeric/],
  ['numeric = with extra terms', { a: [{ numeric: ['=', 1, '<', 5] }] }, /Too many elements in numeric expression/],
  ['numeric upper bound first', { a: [{ numeric: ['<', 10, '>', 0] }] }, /Too many elements in numeric expression/],
  ['numeric range with two lower bounds', { a: [{ numeric: ['>', 0, '>=', 5] }] }, /Bad numeric range operator: >=/],
  ['numeric range inverted', { a: [{ numeric: ['>', 10, '<', 5] }] }, /Bottom must be less than top/],
  ['numeric range empty (equal bounds)', { a: [{ numeric: ['>=', 5, '<=', 5] }] }, /Bottom must be less than top/],
  [
    'numeric too many terms',
    { a: [{ numeric: ['>', 0, '<', 5, '<', 9] }] },
    /Too many terms in numeric range expression/,
  ],
  ['numeric beyond 5.0e9', { a: [{ numeric: ['<', 6e9] }] }, /between -5.0E9 and 5.0E9/],
  ['anything-but empty list', { a: [{ 'anything-but': [] }] }, /either all values are number or string/],
  ['anything-but mixed list', { a: [{ 'anything-but': ['a', 1] }] }, /mixed type is not supported/],
  ['anything-but null in list', { a: [{ 'anything-but': [null] }] }, /null\|boolean is not supported/],
  ['anything-but boolean', { a: [{ 'anything-but': true }] }, /must be an array or single string\/number value/],
  [
    'anything-but unsupported nested operator',
    { a: [{ 'anything-but': { numeric: ['>', 1] } }] },
    /Unsupported anything-but pattern: numeric/,
  ],
  [
    'anything-but nested object with two keys',
    { a: [{ 'anything-but': { prefix: 'a', suffix: 'b' } }] },
    /Only one key allowed/,
  ],
  ['anything-but empty prefix', { a: [{ 'anything-but': { prefix: '' } }] }, /Null prefix\/suffix not allowed/],
  [
    'anything-but empty suffix in a list',
    { a: [{ 'anything-but': { suffix: ['.x', ''] } }] },
    /Null prefix\/suffix not allowed/,
  ],
  [
    'anything-but prefix number',
    { a: [{ 'anything-but': { prefix: 1 } }] },
    /prefix\/suffix match pattern must be a string/,
  ],
  [
    'anything-but ignore-case number',
    { a: [{ 'anything-but': { 'equals-ignore-case': [1] } }] },
    /number\|start\|null\|boolean is not supported/,
  ],
  ['anything-but nested empty list', { a: [{ 'anything-but': { wildcard: [] } }] }, /Empty arrays are not allowed/],
  [
    'anything-but wildcard invalid',
    { a: [{ 'anything-but': { wildcard: 'a**' } }] },
    /Consecutive wildcard characters at pos 1/,
  ],
  ['wildcard consecutive asterisks', { a: [{ wildcard: 'a**b' }] }, /Consecutive wildcard characters at pos 1/],
  ['wildcard escaping another character', { a: [{ wildcard: 'a\\b' }] }, /Invalid escape character at pos 1/],
  ['wildcard trailing backslash', { a: [{ wildcard: 'a\\' }] }, /Invalid escape character at pos 1/],
  ['wildcard not a string', { a: [{ wildcard: 1 }] }, /wildcard match pattern must be a string/],
  ['cidr not an IP', { a: [{ cidr: 'ten/8' }] }, /Nonsensical CIDR IP/],
  ['cidr mask too wide', { a: [{ cidr: '10.0.0.0/33' }] }, /Nonsensical CIDR mask/],
  ['$or not an array', { $or: { a: ['x'] } }, /It must be an Array followed with \$or/],
  ['$or with one alternative', { $or: [{ a: ['x'] }] }, /at least 2 Objects in \$or/],
  ['$or with a non-object alternative', { $or: [{ a: ['x'] }, ['b']] }, /Only JSON object is allowed in array of \$or/],
  [
    '$or alternative using a reserved name',
    { $or: [{ numeric: [123] }, { prefix: ['abc'] }] },
    /numeric is Ruler reserved fieldName/,
  ],
  ['$or with an empty alternative', { $or: [{ a: ['x'] }, {}] }, /Empty objects are not allowed/],
];

describe('validatePattern rejections', () => {
  test.each(rejections)('%s', (_name, pattern, message) => {
    expect(() => validatePattern(pattern)).toThrow(InvalidEventPatternError);
    expect(() => validatePattern(pattern)).toThrow(message);
  });

  test('the error mirrors InvalidEventPatternException', () => {
    try {
      validatePattern({ detail: { a: [] } });
      throw new Error('expected a rejection');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidEventPatternError);
      const err = e as InvalidEventPatternError;
      expect(err.name).toBe('InvalidEventPatternException');
      expect(err.message).toBe('Event pattern is not valid. Reason: Empty arrays are not allowed at detail.a');
      expect(err.path).toBe('detail.a');
    }
  });

  test('matchesPattern also rejects a malformed pattern', () => {
    expect(() => matchesPattern({ a: [] }, {})).toThrow(InvalidEventPatternError);
  });
});
