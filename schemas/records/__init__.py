"""Service records, after the national basic public health service forms
(国家基本公共卫生服务规范): building blocks (`fields`), the forms (`checkup`, `followups`,
`services`), the kind registry and validation engine (`registry`), and what the API takes
and answers around them (`envelopes`)."""
