import type { SimulatorTemplate, SimulatorTemplateButton } from '../types';

/**
 * A configured template as Meta's template management API reports it (`GET /{waba_id}/message_templates`): name,
 * parameter_format, components with `{{1}}` / `{{name}}` placeholders and examples, language, status, category, id;
 * authentication templates with Meta's fixed body, the code expiry on the FOOTER and an OTP button.
 */
export function renderMetaTemplate(template: SimulatorTemplate, id: string, status: string): Record<string, unknown> {
  const named = template.parameterFormat === 'NAMED';
  const components = template.category === 'AUTHENTICATION' ? authenticationComponents(template) : standardComponents(template, named);
  return {
    name: template.name,
    parameter_format: named ? 'NAMED' : 'POSITIONAL',
    components,
    language: template.language,
    status,
    category: template.category,
    ...(template.messageSendTtlSeconds === undefined ? {} : { message_send_ttl_seconds: template.messageSendTtlSeconds }),
    id,
  };
}

/** `{{1}} {{2}}` or `{{first_name}} {{order_id}}` for a parameter spec. */
function placeholders(spec: number | readonly string[] | undefined): string[] {
  if (spec === undefined) return [];
  return typeof spec === 'number' ? Array.from({ length: spec }, (_, index) => `{{${index + 1}}}`) : spec.map((name) => `{{${name}}}`);
}

function names(spec: number | readonly string[] | undefined): string[] {
  return spec === undefined || typeof spec === 'number' ? [] : [...spec];
}

function textExample(spec: number | readonly string[] | undefined, named: boolean, key: 'header' | 'body'): Record<string, unknown> {
  const count = placeholders(spec).length;
  if (count === 0) return {};
  if (named) {
    return { example: { [`${key}_text_named_params`]: names(spec).map((name) => ({ param_name: name, example: `example ${name}` })) } };
  }
  const values = Array.from({ length: count }, (_, index) => `example ${index + 1}`);
  return { example: key === 'header' ? { header_text: values } : { body_text: [values] } };
}

function standardComponents(template: SimulatorTemplate, named: boolean): Record<string, unknown>[] {
  const components: Record<string, unknown>[] = [];
  const header = template.header;
  if (header !== undefined) {
    if (header.format === 'TEXT') {
      components.push({
        type: 'HEADER',
        format: 'TEXT',
        text: ['Update', ...placeholders(header.parameters)].join(' '),
        ...textExample(header.parameters, named, 'header'),
      });
    } else if (header.format === 'LOCATION') {
      components.push({ type: 'HEADER', format: 'LOCATION' });
    } else {
      components.push({ type: 'HEADER', format: header.format, example: { header_handle: ['4::aW1hZ2UvanBlZw==:ARZ-example'] } });
    }
  }
  components.push({
    type: 'BODY',
    text: ['Hello', ...placeholders(template.bodyParameters), '- thank you.'].join(' '),
    ...textExample(template.bodyParameters, named, 'body'),
  });
  components.push({ type: 'FOOTER', text: 'Sent by Waygate' });
  if (template.buttons !== undefined && template.buttons.length > 0) {
    components.push({ type: 'BUTTONS', buttons: template.buttons.map(renderButton) });
  }
  return components;
}

function renderButton(button: SimulatorTemplateButton, index: number): Record<string, unknown> {
  switch (button.type) {
    case 'QUICK_REPLY':
      return { type: 'QUICK_REPLY', text: index === 0 ? 'Yes please' : `Option ${index + 1}` };
    case 'URL':
      return button.dynamic === true
        ? { type: 'URL', text: 'Open', url: 'https://www.example.com/track/{{1}}', example: ['https://www.example.com/track/ABC123'] }
        : { type: 'URL', text: 'Open', url: 'https://www.example.com/' };
    case 'COPY_CODE':
      return { type: 'COPY_CODE', example: 'SAVE20' };
    case 'PHONE_NUMBER':
      return { type: 'PHONE_NUMBER', text: 'Call us', phone_number: '+15550100000' };
    case 'OTP':
      return { type: 'OTP', otp_type: 'COPY_CODE', text: 'Copy code' };
  }
}

function authenticationComponents(template: SimulatorTemplate): Record<string, unknown>[] {
  const otpType = template.otpType ?? 'COPY_CODE';
  return [
    {
      type: 'BODY',
      text: '*{{1}}* is your verification code. For your security, do not share this code.',
      add_security_recommendation: true,
    },
    ...(template.codeExpirationMinutes === undefined
      ? []
      : [
          {
            type: 'FOOTER',
            text: `This code expires in ${template.codeExpirationMinutes} minutes.`,
            code_expiration_minutes: template.codeExpirationMinutes,
          },
        ]),
    {
      type: 'BUTTONS',
      buttons: [
        otpType === 'COPY_CODE'
          ? { type: 'OTP', otp_type: 'COPY_CODE', text: 'Copy code' }
          : {
              type: 'OTP',
              otp_type: otpType,
              text: 'Copy code',
              autofill_text: 'Autofill',
              supported_apps: [{ package_name: 'com.example.app', signature_hash: 'K8a/AINcGX7' }],
            },
      ],
    },
  ];
}

/**
 * A few templates for a WABA, one of each kind Waygate handles specially: a NAMED utility template, a POSITIONAL
 * marketing template with an image header and a quick reply, and two authentication templates (copy code, one-tap).
 * The local stack and tests seed the simulator with them.
 */
export function seedTemplates(wabaId: string): SimulatorTemplate[] {
  return [
    {
      wabaId,
      name: 'order_update',
      language: 'en_US',
      category: 'UTILITY',
      parameterFormat: 'NAMED',
      bodyParameters: ['first_name', 'order_id'],
    },
    {
      wabaId,
      name: 'spring_sale',
      language: 'en_US',
      category: 'MARKETING',
      header: { format: 'IMAGE' },
      bodyParameters: 2,
      buttons: [{ type: 'QUICK_REPLY' }],
    },
    {
      wabaId,
      name: 'login_code',
      language: 'en_US',
      category: 'AUTHENTICATION',
      buttons: [{ type: 'OTP' }],
      bodyParameters: 1,
      otpType: 'COPY_CODE',
      codeExpirationMinutes: 10,
      messageSendTtlSeconds: 300,
    },
    {
      wabaId,
      name: 'login_code_one_tap',
      language: 'en_US',
      category: 'AUTHENTICATION',
      buttons: [{ type: 'OTP' }],
      bodyParameters: 1,
      otpType: 'ONE_TAP',
      codeExpirationMinutes: 5,
    },
  ];
}
