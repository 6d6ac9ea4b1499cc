#include "tenants_util.h"
