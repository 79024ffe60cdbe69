import type { SQSEvent } from 'aws-lambda';
import type { InboundEvent } from '../../shared/contracts/inbound';
import { envelope } from './factories';

/** An SQS batch as Lambda receives it, one record per body; message ids are `${prefix}-${i}`. */
export function sqsEvent(bodies: readonly string[], prefix = 'm'): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `${prefix}-${i}`,
      receiptHandle: `rh-${prefix}-${i}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'x',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
      awsRegion: 'us-east-1',
    })),
  };
}

/** The EventBridge envelopes of validated events, as the ingest queue receives them. */
export function bodiesOf(events: readonly InboundEvent[]): string[] {
  return events.map((e) => envelope(e.type, e.detail));
}
