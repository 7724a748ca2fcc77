"""IAM action lists used by the constructs' grants, named for what they allow.

Every action is spelled out (no ``*`` wildcards), so policies read as a list of
exactly what a principal may do.
"""

S3_READ_OBJECTS = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes"]
S3_WRITE_OBJECTS = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
S3_LIST = ["s3:ListBucket"]

KMS_DECRYPT = ["kms:Decrypt"]
KMS_ENCRYPT = ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"]
