import type { FieldViolation, TemplateComponent, TemplateParameter, TemplateParameterValue } from '@waygate/domain';
import type { CatalogTemplate, TemplateComponentSpec } from './template-catalog';

type ValueType = TemplateParameterValue['type'];

/** Value types a text placeholder ({{1}} / {{name}}) takes, per component. */
const TEXT_VALUE_TYPES: Readonly<Record<'header' | 'body', readonly ValueType[]>> = {
  header: ['text'],
  body: ['text', 'currency', 'date_time'],
};

/** What a button takes in a send, by Meta's button type: which value type, and how many (min..max). */
interface ButtonRule {
  readonly valueType: ValueType | undefined;
  readonly min: number;
  readonly max: number;
  /** Why a wrong value type is wrong, for the caller. */
  readonly hint: string;
}

function buttonRule(spec: TemplateComponentSpec): ButtonRule {
  switch (spec.buttonType) {
    case 'QUICK_REPLY':
      // The payload is optional: without it, the customer's reply carries the button text.
      return { valueType: 'payload', min: 0, max: 1, hint: 'a quick_reply button takes a payload parameter' };
    case 'URL':
      return {
        valueType: 'text',
        min: spec.parameterCount,
        max: spec.parameterCount,
        hint: 'a url button takes its URL suffix as a text parameter',
      };
    case 'OTP':
      return {
        valueType: 'text',
        min: 1,
        max: 1,
        hint: 'an authentication template takes the code as a text parameter (coupon_code is for marketing copy_code buttons)',
      };
    case 'COPY_CODE':
      return {
        valueType: 'coupon_code',
        min: 1,
        max: 1,
        hint: 'a copy_code button takes a coupon_code parameter (authentication codes go on the url button as text)',
      };
    case 'FLOW':
    case 'CATALOG':
    case 'MPM':
      return { valueType: 'action', min: 0, max: 1, hint: `a ${spec.buttonSubType} button takes an action parameter` };
    default:
      // PHONE_NUMBER and other static buttons take nothing.
      return { valueType: undefined, min: 0, max: 0, hint: `a ${spec.buttonType} button takes no parameters` };
  }
}

const MEDIA_HEADER_TYPES: Readonly<Record<string, ValueType>> = {
  IMAGE: 'image',
  VIDEO: 'video',
  DOCUMENT: 'document',
  LOCATION: 'location',
};

function violation(field: string, reason: string, description: string): FieldViolation {
  return { field, reason, description };
}

/** Checks the parameters of a TEXT header or the body against the placeholders, named or positional. */
function checkTextParameters(
  template: CatalogTemplate,
  spec: TemplateComponentSpec,
  part: 'header' | 'body',
  parameters: readonly TemplateParameter[],
  path: string,
): FieldViolation[] {
  const violations: FieldViolation[] = [];
  const allowed = TEXT_VALUE_TYPES[part];
  parameters.forEach((parameter, index) => {
    if (!allowed.includes(parameter.value.type)) {
      violations.push(
        violation(
          `${path}.parameters[${index}]`,
          'WRONG_TYPE',
          `the ${part} takes ${allowed.join(', ')} parameters, not ${parameter.value.type}`,
        ),
      );
    }
  });
  if (template.parameterFormat === 'NAMED') {
    const expected = new Set(spec.parameterNames);
    const seen = new Set<string>();
    parameters.forEach((parameter, index) => {
      const at = `${path}.parameters[${index}].parameter_name`;
      if (!parameter.parameterName)
        violations.push(violation(at, 'REQUIRED', 'the template uses named parameters: give each its parameter_name'));
      else if (!expected.has(parameter.parameterName)) {
        violations.push(
          violation(
            at,
            'UNKNOWN',
            `the ${part} has no parameter ${parameter.parameterName} (it has: ${spec.parameterNames.join(', ') || 'none'})`,
          ),
        );
      } else if (seen.has(parameter.parameterName))
        violations.push(violation(at, 'DUPLICATE', `${parameter.parameterName} is given twice`));
      seen.add(parameter.parameterName);
    });
    const missing = spec.parameterNames.filter((name) => !seen.has(name));
    if (missing.length > 0) violations.push(violation(`${path}.parameters`, 'MISSING', `the ${part} also needs: ${missing.join(', ')}`));
    return violations;
  }
  parameters.forEach((parameter, index) => {
    if (parameter.parameterName) {
      violations.push(
        violation(
          `${path}.parameters[${index}].parameter_name`,
          'UNEXPECTED',
          'the template uses positional parameters: leave parameter_name empty',
        ),
      );
    }
    if (index >= spec.parameterCount) {
      violations.push(violation(`${path}.parameters[${index}]`, 'UNEXPECTED', `the ${part} takes ${spec.parameterCount} parameter(s)`));
    }
  });
  if (parameters.length < spec.parameterCount) {
    violations.push(
      violation(`${path}.parameters`, 'TOO_FEW', `the ${part} takes ${spec.parameterCount} parameter(s), got ${parameters.length}`),
    );
  }
  return violations;
}

function checkHeader(
  template: CatalogTemplate,
  spec: TemplateComponentSpec | undefined,
  component: TemplateComponent,
  path: string,
): FieldViolation[] {
  if (!spec) return [violation(path, 'UNEXPECTED', 'the template has no header')];
  if (spec.headerFormat === 'TEXT') return checkTextParameters(template, spec, 'header', component.parameters, path);
  const expected = MEDIA_HEADER_TYPES[spec.headerFormat];
  if (!expected) return [];
  if (component.parameters.length !== 1) {
    return [violation(`${path}.parameters`, 'COUNT', `the ${spec.headerFormat} header takes exactly one ${expected} parameter`)];
  }
  const given = component.parameters[0]?.value.type;
  return given === expected
    ? []
    : [violation(`${path}.parameters[0]`, 'WRONG_TYPE', `the header is ${spec.headerFormat}: give an ${expected} parameter, not ${given}`)];
}

function checkButton(spec: TemplateComponentSpec, component: TemplateComponent, path: string): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (component.subType !== spec.buttonSubType) {
    violations.push(
      violation(
        `${path}.sub_type`,
        'MISMATCH',
        spec.buttonSubType
          ? `button ${spec.index} is a ${spec.buttonType} button: send it with sub_type ${spec.buttonSubType}`
          : `button ${spec.index} is a ${spec.buttonType} button and takes no parameters`,
      ),
    );
    return violations;
  }
  const rule = buttonRule(spec);
  component.parameters.forEach((parameter, index) => {
    if (index >= rule.max) violations.push(violation(`${path}.parameters[${index}]`, 'UNEXPECTED', rule.hint));
    else if (parameter.value.type !== rule.valueType) violations.push(violation(`${path}.parameters[${index}]`, 'WRONG_TYPE', rule.hint));
  });
  if (component.parameters.length < rule.min) violations.push(violation(`${path}.parameters`, 'REQUIRED', rule.hint));
  return violations;
}

/** What a missing component would have had to carry, if anything. */
function missingComponent(spec: TemplateComponentSpec): string | undefined {
  if (spec.type === 'HEADER' && spec.parameterCount > 0) {
    return spec.headerFormat === 'TEXT' ? 'the header needs its parameter' : `the ${spec.headerFormat} header needs its media or location`;
  }
  if (spec.type === 'BODY' && spec.parameterCount > 0) return `the body needs ${spec.parameterCount} parameter(s)`;
  if (spec.type === 'BUTTON' && buttonRule(spec).min > 0) return `button ${spec.index} (${spec.buttonType}) needs a parameter`;
  return undefined;
}

function textOf(parameter: TemplateParameter | undefined): string | undefined {
  return parameter?.value.type === 'text' ? parameter.value.text : undefined;
}

/**
 * Checks a template send's components against the catalog's definition: every problem is one field violation with a
 * path such as `template.components[0].parameters[1]` (empty when the parameters fit). Named templates need each
 * parameter's name, positional ones none; media headers their media; buttons are found by index and must be sent with
 * their sub_type; authentication templates take the code as the body's text parameter and again as the text of the
 * `url` button at index 0, while a marketing `copy_code` button takes a `coupon_code`.
 */
export function checkTemplateParameters(template: CatalogTemplate, components: readonly TemplateComponent[]): FieldViolation[] {
  const violations: FieldViolation[] = [];
  const header = template.components.find((spec) => spec.type === 'HEADER');
  const body = template.components.find((spec) => spec.type === 'BODY');
  const buttons = template.components.filter((spec) => spec.type === 'BUTTON');
  const filled = new Set<TemplateComponentSpec>();
  components.forEach((component, index) => {
    const path = `template.components[${index}]`;
    let spec: TemplateComponentSpec | undefined;
    if (component.type === 'header') spec = header;
    else if (component.type === 'body') spec = body;
    else spec = buttons.find((button) => button.index === component.index);
    if (spec && filled.has(spec)) {
      violations.push(
        violation(
          path,
          'DUPLICATE',
          component.type === 'button' ? `button ${component.index} is given twice` : `the ${component.type} is given twice`,
        ),
      );
      return;
    }
    if (spec) filled.add(spec);
    if (component.type === 'header') violations.push(...checkHeader(template, spec, component, path));
    else if (component.type === 'body') {
      if (!spec) violations.push(violation(path, 'UNEXPECTED', 'the template has no body'));
      else violations.push(...checkTextParameters(template, spec, 'body', component.parameters, path));
    } else if (!spec) violations.push(violation(`${path}.index`, 'UNKNOWN', `the template has no button at index ${component.index}`));
    else violations.push(...checkButton(spec, component, path));
  });
  for (const spec of template.components) {
    const missing = filled.has(spec) ? undefined : missingComponent(spec);
    if (missing) violations.push(violation('template.components', 'MISSING', missing));
  }
  if (template.rawCategory === 'AUTHENTICATION' && violations.length === 0) {
    // The code is given twice (body and button); two different codes would show one and copy the other.
    const bodyIndex = components.findIndex((component) => component.type === 'body');
    const buttonIndex = components.findIndex((component) => component.type === 'button' && component.subType === 'url');
    const bodyCode = textOf(components[bodyIndex]?.parameters[0]);
    const buttonCode = textOf(components[buttonIndex]?.parameters[0]);
    if (bodyCode !== undefined && buttonCode !== undefined && bodyCode !== buttonCode) {
      violations.push(
        violation(`template.components[${buttonIndex}].parameters[0]`, 'MISMATCH', 'must be the same code as the body parameter'),
      );
    }
  }
  return violations;
}
