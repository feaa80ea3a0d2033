/**
 * The demo data set: the AI Alliance launch, the Frontier Model Forum, Facebook's rename to
 * Meta and Meta's 2019 funding of TUM's Institute for Ethics in AI. Every fact has a source.
 */
const AI_ALLIANCE_SOURCE = {
  url: 'https://newsroom.ibm.com/2023-12-05-AI-Alliance-Launches-as-an-International-Community-of-Leading-Technology-Developers,-Researchers,-and-Adopters-Collaborating-Together-to-Advance-Open,-Safe,-Responsible-AI',
  title: 'AI Alliance Launches as an International Community of Leading Technology Developers, Researchers, and Adopters',
  publishedOn: '2023-12-05',
};
const FMF_SOURCE = {
  url: 'https://blog.google/outreach-initiatives/public-policy/google-microsoft-openai-anthropic-frontier-model-forum/',
  title: 'A new partnership to promote responsible AI',
  publishedOn: '2023-07-26',
};
const META_RENAME_SOURCE = {
  url: 'https://about.fb.com/news/2021/10/facebook-company-is-now-meta/',
  title: 'Introducing Meta: A Social Technology Company',
  publishedOn: '2021-10-28',
};
const TUM_FUNDING_SOURCE = {
  url: 'https://www.tum.de/en/about-tum/news/press-releases/details/35188',
  title: 'New TUM Institute for Ethics in Artificial Intelligence',
  publishedOn: '2019-01-20',
};

type Org = [id: string, name: string, country: string, kind: string];

const AI_ALLIANCE_MEMBERS: Org[] = [
  ['ibm', 'IBM', 'US', 'company'],
  ['meta', 'Facebook', 'US', 'company'],
  ['tum', 'Technical University of Munich', 'DE', 'university'],
  ['amd', 'AMD', 'US', 'company'],
  ['intel', 'Intel', 'US', 'company'],
  ['yale', 'Yale University', 'US', 'university'],
  ['uc-berkeley', 'University of California, Berkeley', 'US', 'university'],
  ['imperial', 'Imperial College London', 'GB', 'university'],
  ['eth-zurich', 'ETH Zurich', 'CH', 'university'],
  ['epfl', 'EPFL', 'CH', 'university'],
  ['stability-ai', 'Stability AI', 'GB', 'company'],
  ['hugging-face', 'Hugging Face', 'US', 'company'],
  ['red-hat', 'Red Hat', 'US', 'company'],
  ['dell', 'Dell Technologies', 'US', 'company'],
  ['sony', 'Sony Group', 'JP', 'company'],
  ['servicenow', 'ServiceNow', 'US', 'company'],
  ['oracle', 'Oracle', 'US', 'company'],
  ['cerebras', 'Cerebras', 'US', 'company'],
  ['anyscale', 'Anyscale', 'US', 'company'],
  ['cern', 'CERN', 'CH', 'research-institute'],
  ['nasa', 'NASA', 'US', 'government'],
  ['nsf', 'National Science Foundation', 'US', 'government'],
  ['cornell', 'Cornell University', 'US', 'university'],
  ['dartmouth', 'Dartmouth', 'US', 'university'],
  ['uiuc', 'University of Illinois', 'US', 'university'],
  ['notre-dame', 'University of Notre Dame', 'US', 'university'],
  ['u-tokyo', 'The University of Tokyo', 'JP', 'university'],
  ['mbzuai', 'Mohamed bin Zayed University of Artificial Intelligence', 'AE', 'university'],
  ['linux-foundation', 'Linux Foundation', 'US', 'nonprofit'],
  ['mlcommons', 'MLCommons', 'US', 'nonprofit'],
  ['partnership-on-ai', 'Partnership on AI', 'US', 'nonprofit'],
  ['cleveland-clinic', 'Cleveland Clinic', 'US', 'nonprofit'],
];

const FMF_MEMBERS: Org[] = [
  ['openai', 'OpenAI', 'US', 'company'],
  ['google', 'Google', 'US', 'company'],
  ['microsoft', 'Microsoft', 'US', 'company'],
  ['anthropic', 'Anthropic', 'US', 'company'],
];

export const TUM_FUNDING_ID = '6b5f3c1e-2019-4e7a-9a1b-7e1a5c0d2019';

export function demoFacts(): Array<Record<string, unknown>> {
  const organisation = ([id, name, country, kind]: Org) => ({ fact: 'organisation', id, name, country, kind });
  return [
    { fact: 'alliance', id: 'ai-alliance', name: 'AI Alliance', website: 'https://thealliance.ai', foundedOn: '2023-12-05' },
    { fact: 'alliance', id: 'frontier-model-forum', name: 'Frontier Model Forum', website: 'https://www.frontiermodelforum.org', foundedOn: '2023-07-26' },
    ...AI_ALLIANCE_MEMBERS.map(organisation),
    ...FMF_MEMBERS.map(organisation),
    { fact: 'organisation', id: 'tum-ieai', name: 'TUM Institute for Ethics in Artificial Intelligence', country: 'DE', kind: 'research-institute', aliases: ['IEAI'] },
    { fact: 'rename', organisationId: 'meta', name: 'Meta', on: '2021-10-28', source: META_RENAME_SOURCE },
    ...AI_ALLIANCE_MEMBERS.map(([id]) => ({
      fact: 'join',
      allianceId: 'ai-alliance',
      organisationId: id,
      on: '2023-12-05',
      role: id === 'ibm' || id === 'meta' ? 'founding member (co-launcher)' : 'founding member',
      source: AI_ALLIANCE_SOURCE,
    })),
    ...FMF_MEMBERS.map(([id]) => ({
      fact: 'join',
      allianceId: 'frontier-model-forum',
      organisationId: id,
      on: '2023-07-26',
      role: 'founding member',
      source: FMF_SOURCE,
    })),
    {
      fact: 'funding',
      fundingId: TUM_FUNDING_ID,
      funderId: 'meta',
      recipientId: 'tum-ieai',
      amount: '6500000',
      currency: 'EUR',
      on: '2019-01',
      purpose: 'Founding grant for the Institute for Ethics in Artificial Intelligence, over five years',
      source: TUM_FUNDING_SOURCE,
    },
    {
      fact: 'tranche',
      fundingId: TUM_FUNDING_ID,
      amount: '1300000',
      currency: 'EUR',
      on: '2019',
      source: TUM_FUNDING_SOURCE,
    },
  ];
}
