import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Secret, Service } from 'kubernetes-models/v1';
import type { K8sObject } from './helm-chart';

/** A model class of kubernetes-models: validate() throws a ValidationError naming the bad field. */
type ModelClass = new (data: never) => { validate(): void };

/**
 * The Kubernetes API schemas (kubernetes-models, generated from the OpenAPI spec) and prometheus-operator's CRD
 * schemas for every apiVersion/kind the chart renders. A kind not listed here fails validation: a new template must
 * add its schema (or a structural check, like KEDA's below).
 */
const MODELS: Readonly<Record<string, ModelClass>> = {
  'v1/Service': Service,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

const SCALED_OBJECT = 'keda.sh/v1alpha1/ScaledObject';

/** `Kind/name` for messages. */
export function describeObject(object: K8sObject): string {
  return `${object.kind}/${object.metadata.name}`;
}

/**
 * Validates every object against its schema; returns one message per invalid object (empty = all valid). KEDA's
 * ScaledObject has no model package that runs on Node 20, so its shape is checked structurally
 * (`scaledObjectProblems`).
 */
export function schemaProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    const key = `${object.apiVersion}/${object.kind}`;
    if (key === SCALED_OBJECT) {
      problems.push(...scaledObjectProblems(object, objects).map((problem) => `${describeObject(object)}: ${problem}`));
      continue;
    }
    const Model = MODELS[key];
    if (!Model) {
      problems.push(`${describeObject(object)}: no schema for ${key} (add one to MODELS in k8s-schema-validation.ts)`);
      continue;
    }
    try {
      new Model(object as never).validate();
    } catch (error) {
      problems.push(`${describeObject(object)}: ${(error as Error).message}`);
    }
  }
  return problems;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;

/**
 * The fields of a keda.sh/v1alpha1 ScaledObject the chart sets, checked against KEDA's CRD (spec.scaleTargetRef,
 * replica counts, triggers[].type/metadata with string values) and the nats-jetstream scaler's required metadata.
 * Also: the target is a Deployment of this render, and no HorizontalPodAutoscaler targets it too (KEDA makes its own).
 */
export function scaledObjectProblems(object: K8sObject, all: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const spec = object.spec;
  if (!isRecord(spec)) return ['spec is missing'];
  const target = spec.scaleTargetRef;
  if (!isRecord(target) || typeof target.name !== 'string' || target.name === '') {
    problems.push('spec.scaleTargetRef.name must be a non-empty string');
  } else {
    if (target.kind !== undefined && target.kind !== 'Deployment')
      problems.push(`spec.scaleTargetRef.kind must be Deployment, got ${String(target.kind)}`);
    if (!all.some((other) => other.kind === 'Deployment' && other.metadata.name === target.name)) {
      problems.push(`spec.scaleTargetRef.name ${target.name} is not a Deployment of this release`);
    }
    const hpa = all.find(
      (other) =>
        other.kind === 'HorizontalPodAutoscaler' && isRecord(other.spec?.scaleTargetRef) && other.spec.scaleTargetRef.name === target.name,
    );
    if (hpa) problems.push(`HorizontalPodAutoscaler/${hpa.metadata.name} also scales ${target.name}`);
  }
  for (const field of ['minReplicaCount', 'maxReplicaCount', 'pollingInterval', 'cooldownPeriod']) {
    if (spec[field] !== undefined && !isCount(spec[field])) problems.push(`spec.${field} must be a non-negative integer`);
  }
  if (isCount(spec.minReplicaCount) && isCount(spec.maxReplicaCount) && spec.minReplicaCount > spec.maxReplicaCount) {
    problems.push('spec.minReplicaCount is above spec.maxReplicaCount');
  }
  const triggers = spec.triggers;
  if (!Array.isArray(triggers) || triggers.length === 0) return [...problems, 'spec.triggers must be a non-empty list'];
  triggers.forEach((trigger: unknown, index) => {
    const at = `spec.triggers[${index}]`;
    if (!isRecord(trigger) || typeof trigger.type !== 'string') return problems.push(`${at}.type must be a string`);
    if (!isRecord(trigger.metadata)) return problems.push(`${at}.metadata must be a map`);
    for (const [key, value] of Object.entries(trigger.metadata)) {
      if (typeof value !== 'string') problems.push(`${at}.metadata.${key} must be a string (KEDA's CRD: map of strings)`);
    }
    if (trigger.type !== 'nats-jetstream') return problems.push(`${at}.type must be nats-jetstream, got ${trigger.type}`);
    for (const key of ['natsServerMonitoringEndpoint', 'account', 'stream', 'consumer', 'lagThreshold']) {
      const value = trigger.metadata[key];
      if (typeof value !== 'string' || value === '') problems.push(`${at}.metadata.${key} is required`);
    }
    const lag = trigger.metadata.lagThreshold;
    if (typeof lag === 'string' && !/^[1-9]\d*$/.test(lag))
      problems.push(`${at}.metadata.lagThreshold must be a positive integer, got ${lag}`);
    return undefined;
  });
  return problems;
}
