import { RemovalPolicy, Stack, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { StageConfig } from '../config/stages';

export function removalPolicyOf(config: StageConfig): RemovalPolicy {
  return config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

/** Logical id of an L2's CloudFormation resource, as cdk-nag prints it in finding ids (`<LogicalId.Arn>`). */
export function logicalIdOf(construct: IConstruct): string {
  const element = construct.node.defaultChild as CfnElement | undefined;
  if (!element) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  const stack = Stack.of(element);
  return stack.resolve(stack.getLogicalId(element)) as string;
}
