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
const HTTP_ROUTE = 'gateway.networking.k8s.io/v1/HTTPRoute';

/** `Kind/name` for messages. */
export function describeObject(object: K8sObject): string {
  return `${object.kind}/${object.metadata.name}`;
}

/**
 * Validates every object against its schema; returns one message per invalid object (empty = all valid). KEDA's
 * ScaledObject and the Gateway API's HTTPRoute have no model package here (none for KEDA runs on Node 20), so their
 * shapes are checked structurally (`scaledObjectProblems`, `httpRouteProblems`).
 */
export function schemaProblems(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    const key = `${object.apiVersion}/${object.kind}`;
    if (key === SCALED_OBJECT || key === HTTP_ROUTE) {
      const check = key === SCALED_OBJECT ? scaledObjectProblems : httpRouteProblems;
      problems.push(...check(object, objects).map((problem) => `${describeObject(object)}: ${problem}`));
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

/**
 * The fields of a gateway.networking.k8s.io/v1 HTTPRoute the chart sets, checked against the Gateway API's CRD:
 * parentRefs with names, hostnames, rules whose path matches have a known type and an absolute value, and backendRefs
 * that name a Service of this render on one of its ports.
 */
export function httpRouteProblems(object: K8sObject, all: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const spec = object.spec;
  if (!isRecord(spec)) return ['spec is missing'];
  const parents = spec.parentRefs;
  if (!Array.isArray(parents) || parents.length === 0) problems.push('spec.parentRefs must be a non-empty list');
  else
    parents.forEach((parent: unknown, index) => {
      if (!isRecord(parent) || typeof parent.name !== 'string' || parent.name === '')
        problems.push(`spec.parentRefs[${index}].name is required`);
    });
  const hostnames = spec.hostnames;
  if (
    !Array.isArray(hostnames) ||
    hostnames.some(
      (host) => typeof host !== 'string' || !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(host),
    )
  ) {
    problems.push('spec.hostnames must be a list of DNS names');
  }
  const rules = spec.rules;
  if (!Array.isArray(rules) || rules.length === 0) return [...problems, 'spec.rules must be a non-empty list'];
  rules.forEach((rule: unknown, index) => {
    const at = `spec.rules[${index}]`;
    if (!isRecord(rule)) return problems.push(`${at} must be a map`);
    for (const match of Array.isArray(rule.matches) ? rule.matches : []) {
      const pathMatch = isRecord(match) ? match.path : undefined;
      if (!isRecord(pathMatch)) continue;
      if (!['Exact', 'PathPrefix', 'RegularExpression'].includes(String(pathMatch.type)))
        problems.push(`${at}: path type ${String(pathMatch.type)} is unknown`);
      if (typeof pathMatch.value !== 'string' || !pathMatch.value.startsWith('/')) problems.push(`${at}: path value must start with /`);
    }
    const backends = rule.backendRefs;
    if (!Array.isArray(backends) || backends.length === 0) return problems.push(`${at}.backendRefs must be a non-empty list`);
    for (const backend of backends) {
      const service = isRecord(backend) ? all.find((other) => other.kind === 'Service' && other.metadata.name === backend.name) : undefined;
      const ports = ((service?.spec?.ports ?? []) as { port: number }[]).map((port) => port.port);
      if (!isRecord(backend) || !service)
        problems.push(`${at}: backend ${isRecord(backend) ? String(backend.name) : '?'} is not a Service of this release`);
      else if (!ports.includes(backend.port as number))
        problems.push(`${at}: backend ${String(backend.name)} has no port ${String(backend.port)}`);
    }
    return undefined;
  });
  return problems;
}
